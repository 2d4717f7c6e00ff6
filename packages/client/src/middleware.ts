import { invalidOption, type LambdaContextLike, type Middleware, trackInvocation } from '@warmstart/core'
import type { Lazy } from './lazy.js'

/** The instances a record of lazies resolves to: `{ ssm: Lazy<SSMClient> }` → `{ ssm: SSMClient }`. */
export type ResolvedClients<L extends Record<string, Lazy<unknown>>> = {
  [K in keyof L]: Awaited<ReturnType<L[K]['get']>>
}

/** What clientsMiddleware adds to the Lambda context (the clients only with `setToContext: true`). */
export type ClientsContext<L extends Record<string, Lazy<unknown>>> = {
  coldStart: boolean
} & ResolvedClients<L>

export interface ClientsMiddlewareOptions {
  /** Put each resolved instance on the context under its key. Default false. */
  setToContext?: boolean
}

/**
 * A Middy middleware that resolves the given lazies in parallel before the handler runs (so the
 * handler never pays for a creation in the middle of its work), optionally puts them on the
 * context, and sets `context.coldStart` for the first invocation of the environment.
 */
export function clientsMiddleware<L extends Record<string, Lazy<unknown>>>(
  lazies: L,
  options: ClientsMiddlewareOptions = {},
): Middleware {
  if (lazies === null || typeof lazies !== 'object') {
    throw invalidOption('clientsMiddleware', 'lazies', 'must be an object of lazy() values, such as { ssm }')
  }
  for (const [name, value] of Object.entries(lazies)) {
    if (typeof (value as { get?: unknown } | null)?.get !== 'function') {
      throw invalidOption('clientsMiddleware', `lazies.${name}`, 'must be a lazy() value')
    }
  }
  if (options.setToContext !== undefined && typeof options.setToContext !== 'boolean') {
    throw invalidOption('clientsMiddleware', 'setToContext', 'must be a boolean')
  }
  const entries = Object.entries(lazies)
  return {
    async before(request) {
      const context = request.context as LambdaContextLike & Record<string, unknown>
      context.coldStart = trackInvocation(context).coldStart
      const values = await Promise.all(entries.map(([, value]) => value.get()))
      if (options.setToContext) {
        entries.forEach(([name], index) => {
          context[name] = values[index]
        })
      }
    },
  }
}
