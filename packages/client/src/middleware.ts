import { invalidOption, type LambdaContextLike, type Middleware, trackInvocation } from '@warmstart/core'
import type { Lazy } from './lazy.js'
import { isThenable } from './thenable.js'

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
  const names = Object.keys(lazies)
  const values = Object.values(lazies)
  const setToContext = options.setToContext === true
  // A resolved promise keeps its value: an async lazy hands out the same settled promise while its
  // instance is current, so a warm invocation reads the instance seen last time without awaiting.
  // `results` is scratch for one synchronous pass of before().
  const knownPromises: unknown[] = values.map(() => undefined)
  const instances: unknown[] = values.map(() => undefined)
  const results: unknown[] = values.map(() => undefined)
  const assign = (context: Record<string, unknown>, resolved: unknown[]): void => {
    if (setToContext) for (let i = 0; i < names.length; i++) context[names[i] as string] = resolved[i]
  }
  const resolveAll = async (context: Record<string, unknown>, pending: unknown[]): Promise<void> => {
    const resolved = await Promise.all(pending)
    for (let i = 0; i < resolved.length; i++) {
      knownPromises[i] = pending[i]
      instances[i] = resolved[i]
    }
    assign(context, resolved)
  }
  return {
    before(request) {
      const context = request.context as LambdaContextLike & Record<string, unknown>
      context.coldStart = trackInvocation(context).coldStart
      // Every get() starts in this loop, so creations run in parallel.
      let known = true
      for (let i = 0; i < values.length; i++) {
        const result = (values[i] as Lazy<unknown>).get()
        results[i] = result
        if (!isThenable(result)) instances[i] = result
        else if (result !== knownPromises[i]) known = false
      }
      if (!known) return resolveAll(context, results.slice())
      assign(context, instances)
      return undefined
    },
  }
}
