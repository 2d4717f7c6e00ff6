// A listener registered once at init, capturing nothing of a request.
import { EventEmitter } from 'node:events'
import { deployed } from '../deployed.mjs'

const bus = new EventEmitter()
const flushed = { count: 0 }
bus.on('flush', () => flushed.count++)

export const handler = deployed(async (event) => {
  bus.emit('flush')
  return { batchItemFailures: [], records: event.Records.length }
})
