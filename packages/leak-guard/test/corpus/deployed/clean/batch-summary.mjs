// A summary of the last batch: counts and the queue's name, nothing of a message.
import { deployed } from '../deployed.mjs'

const lastBatch = { size: 0, queue: '' }

export const handler = deployed(async (event) => {
  lastBatch.size = event.Records.length
  lastBatch.queue = event.Records[0].eventSourceARN.split(':').pop()
  return { batchItemFailures: [] }
})
