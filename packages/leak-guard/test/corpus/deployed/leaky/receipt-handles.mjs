// Receipt handles queued for a batched delete that never runs.
import { deployed } from '../deployed.mjs'

const pendingDeletes = []

export const handler = deployed(async (event) => {
  for (const record of event.Records) pendingDeletes.push(record.receiptHandle)
  return { batchItemFailures: [] }
})
