import type { LambdaContext, LambdaContextLike, Middleware } from '@warmstart/core'
import { checkContextKey, invalidOption, trackInvocation } from '@warmstart/core/internal'
import type { Client } from 'pg'
import { invocationScope, type PgConnection } from './pg-connection.js'

export interface PgMiddlewareOptions {
  db: PgConnection
  /** Puts this invocation's checked pg.Client on the context: `true` as `context.pg`, or under the name given. */
  setToContext?: boolean | string
}

/**
 * Middy middleware: before the handler, this invocation's connection is taken and made ready
 * (opened, replaced or checked, within the invocation's remaining time); after it, or when it
 * throws, a transaction it left open is rolled back and the connection is given back.
 */
export function pgMiddleware<
  TEvent = unknown,
  TResult = unknown,
  TContext extends LambdaContextLike = LambdaContext,
>(options: PgMiddlewareOptions): Middleware<TEvent, TResult, TContext> {
  const scope = invocationScope(options?.db)
  if (scope === undefined)
    throw invalidOption('pgMiddleware', 'db', 'must be a connection made by pgConnection()')
  const { setToContext = false } = options
  if (typeof setToContext !== 'boolean' && (typeof setToContext !== 'string' || setToContext.length === 0)) {
    throw invalidOption('pgMiddleware', 'setToContext', 'must be true, false or a property name')
  }
  const property = setToContext === true ? 'pg' : setToContext
  if (property !== false) checkContextKey('pgMiddleware', 'setToContext', property)
  const put = (context: TContext, client: Client): void => {
    if (property !== false) (context as Record<string, unknown> as Record<string, Client>)[property] = client
  }
  const finish = ({ context }: { context: TContext }): Promise<void> =>
    scope.finish(trackInvocation(context).requestId)
  return {
    async before({ context }) {
      put(context, await scope.begin(trackInvocation(context).requestId, context))
    },
    after: finish,
    onError: finish,
  }
}
