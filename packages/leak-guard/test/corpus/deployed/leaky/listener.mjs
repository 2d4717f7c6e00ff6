// A listener added per invocation that captures the event.
import { EventEmitter } from 'node:events'
import { deployed } from '../deployed.mjs'

const shutdown = new EventEmitter()
shutdown.setMaxListeners(0)

export const handler = deployed(async (event) => {
  shutdown.on('flush', () => event.body.length)
  return { statusCode: 200, body: 'ok' }
})
