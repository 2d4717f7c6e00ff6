// A ring buffer of latencies, numbers only.
import { deployed } from '../deployed.mjs'

const latencies = new Float64Array(300)
let next = 0

export const handler = deployed(async (event) => {
  const started = performance.now()
  const size = event.Records.length
  latencies[next++ % latencies.length] = performance.now() - started + size
  return { batchItemFailures: [] }
})
