// The last search, kept to "prefill" the next response.
import { deployed } from '../deployed.mjs'

let lastSearch = ''

export const handler = deployed(async (event) => {
  lastSearch = event.queryStringParameters.q
  return { statusCode: 200, body: String(lastSearch.length) }
})
