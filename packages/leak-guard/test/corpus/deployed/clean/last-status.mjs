// The status of the last invocation: short, common values.
import { deployed } from '../deployed.mjs'

const status = { last: 'ok', code: 200, at: 0 }

export const handler = deployed(async (event) => {
  status.last = 'ok'
  status.at = event.requestContext.timeEpoch > 0 ? 1 : 0
  return { statusCode: 200, body: status.last }
})
