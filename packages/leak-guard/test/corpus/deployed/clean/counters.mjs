// Metrics counters.
import { deployed } from '../deployed.mjs'

const metrics = { invocations: 0, records: 0, errors: 0 }

export const handler = deployed(async (event) => {
  metrics.invocations++
  metrics.records += event.Records.length
  return { batchItemFailures: [] }
})
