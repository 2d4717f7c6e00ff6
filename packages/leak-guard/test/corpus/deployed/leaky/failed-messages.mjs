// Failed messages kept with their input, "for a retry report".
import { deployed } from '../deployed.mjs'

const failures = []

export const handler = deployed(async (event) => {
  for (const record of event.Records) {
    const { email } = JSON.parse(record.body)
    failures.push({ error: new Error('mailbox unavailable'), recipient: email })
  }
  return { batchItemFailures: [] }
})
