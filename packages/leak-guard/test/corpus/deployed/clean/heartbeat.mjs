// A heartbeat timer started at init, capturing nothing of a request.
import { deployed } from '../deployed.mjs'

const health = { beats: 0 }
setInterval(() => health.beats++, 3_600_000).unref()

export const handler = deployed(async () => {
  return { statusCode: 200, body: String(health.beats) }
})
