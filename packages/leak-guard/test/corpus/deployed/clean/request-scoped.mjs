// Request state kept on the event and in locals only.
import { deployed } from '../deployed.mjs'

export const handler = deployed(async (event) => {
  event.parsed = JSON.parse(event.body)
  const total = event.parsed.items.reduce((sum, item) => sum + item.qty, 0)
  return { statusCode: 200, body: String(total) }
})
