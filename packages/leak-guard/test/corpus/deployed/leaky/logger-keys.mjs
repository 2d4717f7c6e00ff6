// A logger whose persistent keys are appended per request and never cleared.
import { deployed } from '../deployed.mjs'

class Logger {
  persistentKeys = { service: 'orders' }
  appendKeys(keys) {
    Object.assign(this.persistentKeys, keys)
  }
  info(message) {
    return JSON.stringify({ message, ...this.persistentKeys }).length
  }
}

const logger = new Logger()

export const handler = deployed(async (event) => {
  logger.appendKeys({ userId: event.requestContext.authorizer.jwt.claims.sub })
  logger.info('order listed')
  return { statusCode: 200, body: 'ok' }
})
