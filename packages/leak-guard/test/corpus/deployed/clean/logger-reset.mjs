// A logger with request keys appended and cleared at the end of each invocation.
import { deployed } from '../deployed.mjs'

class Logger {
  persistentKeys = { service: 'orders' }
  requestKeys = {}
  appendKeys(keys) {
    Object.assign(this.requestKeys, keys)
  }
  resetKeys() {
    this.requestKeys = {}
  }
}

const logger = new Logger()

export const handler = deployed(async (event) => {
  logger.appendKeys({ userId: event.requestContext.authorizer.jwt.claims.sub })
  try {
    return { statusCode: 200, body: 'ok' }
  } finally {
    logger.resetKeys()
  }
})
