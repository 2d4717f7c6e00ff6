import type { LambdaContextLike, Middleware } from '@warmstart/core'
import {
  checkContextKey,
  checkOptions,
  invalidOption,
  settledState,
  trackInvocation,
} from '@warmstart/core/internal'
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
  checkOptions('clientsMiddleware', options, ['setToContext'])
  if (options.setToContext !== undefined && typeof options.setToContext !== 'boolean') {
    throw invalidOption('clientsMiddleware', 'setToContext', 'must be a boolean')
  }
  const names = Object.keys(lazies)
  const values = Object.values(lazies)
  const setToContext = options.setToContext === true
  if (setToContext) for (const name of names) checkContextKey('clientsMiddleware', `lazies.${name}`, name)
  // An async lazy hands out the same settled promise while its instance is current, so a warm
  // invocation reads its value from the promise's settled state without awaiting; Middy then
  // skips nothing, but this phase allocates no promise. `results` is scratch for one pass.
  const instances: unknown[] = values.map(() => undefined)
  const results: unknown[] = values.map(() => undefined)
  const assign = (context: Record<string, unknown>, resolved: unknown[]): void => {
    if (setToContext) for (let i = 0; i < names.length; i++) context[names[i] as string] = resolved[i]
  }
  const resolveAll = async (context: Record<string, unknown>, pending: unknown[]): Promise<void> => {
    assign(context, await Promise.all(pending))
  }
  return {
    before(request) {
      const context = request.context as unknown as LambdaContextLike & Record<string, unknown>
      context.coldStart = trackInvocation(context).coldStart
      // Every get() starts in this loop, so creations run in parallel.
      let known = true
      for (let i = 0; i < values.length; i++) {
        const result = (values[i] as Lazy<unknown>).get()
        results[i] = result
        if (!isThenable(result)) {
          instances[i] = result
          continue
        }
        const state = settledState(result as Promise<unknown>)
        if (state.status === 'fulfilled') instances[i] = state.value
        else known = false
      }
      if (!known) return resolveAll(context, results.slice())
      assign(context, instances)
      return undefined
    },
  }
}
