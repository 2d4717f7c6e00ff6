// The accounts seen, from the path, in a Set.
import { deployed } from '../deployed.mjs'

const seenAccounts = new Set()

export const handler = deployed(async (event) => {
  seenAccounts.add(event.pathParameters.accountId)
  return { statusCode: 200, body: String(seenAccounts.size) }
})
