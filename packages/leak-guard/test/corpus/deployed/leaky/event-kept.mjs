// The whole event kept for debugging.
import { deployed } from '../deployed.mjs'

let lastEvent

export const handler = deployed(async (event) => {
  lastEvent = event
  return { batchItemFailures: [], records: lastEvent.Records.length }
})
