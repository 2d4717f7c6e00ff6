// An audit trail appended to for every message, flushed "later" (never).
import { deployed } from '../deployed.mjs'

const audit = []

export const handler = deployed(async (event) => {
  for (const record of event.Records) {
    const { userId } = JSON.parse(record.body)
    audit.push({ userId, at: 1 })
  }
  return { batchItemFailures: [] }
})
