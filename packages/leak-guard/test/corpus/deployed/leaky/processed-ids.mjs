// Message ids remembered for de-duplication in memory, without bound.
import { deployed } from '../deployed.mjs'

const processed = new Set()

export const handler = deployed(async (event) => {
  for (const record of event.Records) processed.add(record.messageId)
  return { batchItemFailures: [] }
})
