// A ring buffer of the last 300 users seen, for a "recent activity" metric: full from the start,
// so its size never changes.
import { deployed } from '../deployed.mjs'

const recent = new Array(300).fill('')
let next = 0

export const handler = deployed(async (event) => {
  for (const record of event.Records) recent[next++ % recent.length] = JSON.parse(record.body).userId
  return { batchItemFailures: [] }
})
