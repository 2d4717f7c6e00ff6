// The last message's body as text, for an error report.
import { deployed } from '../deployed.mjs'

// biome-ignore lint/correctness/noUnusedVariables: a leak on purpose
let lastPayload = ''

export const handler = deployed(async (event) => {
  lastPayload = event.Records.map((record) => record.body).join('\n')
  return { batchItemFailures: [] }
})
