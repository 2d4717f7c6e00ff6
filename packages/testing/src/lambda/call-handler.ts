import { WarmstartError } from '@warmstart/core'

/** A handler as the Node.js runtime accepts it: async, or taking a callback as third argument. */
export type LambdaHandler = (
  event: unknown,
  context: unknown,
  callback?: (error?: unknown, result?: unknown) => void,
) => unknown

/**
 * The handler export of a loaded module. A missing one fails init as Lambda's
 * Runtime.HandlerNotFound does ("index.handler is undefined or not exported").
 */
export function findHandler(
  module: Record<string, unknown>,
  exportName: string,
  handlerName: string,
): LambdaHandler {
  const handler = module[exportName]
  if (typeof handler !== 'function') {
    const error = new WarmstartError('ERR_HANDLER_NOT_FOUND', `${handlerName} is undefined or not exported`)
    error.name = 'Runtime.HandlerNotFound'
    throw error
  }
  return handler as LambdaHandler
}

/**
 * Calls a handler once. A handler declared with three parameters is callback-style: its result
 * is what it passes to the callback. Otherwise its (possibly promised) return value is the result.
 */
export function callHandler(handler: LambdaHandler, event: unknown, context: unknown): Promise<unknown> {
  if (handler.length < 3) return Promise.resolve().then(() => handler(event, context))
  return new Promise((resolve, reject) => {
    const callback = (error?: unknown, result?: unknown) => {
      if (error !== undefined && error !== null) reject(error)
      else resolve(result)
    }
    Promise.resolve()
      .then(() => handler(event, context, callback))
      .then((returned) => {
        if (returned !== undefined) resolve(returned)
      }, reject)
  })
}
