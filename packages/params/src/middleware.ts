import type { LambdaContext, Middleware } from '@warmstart/core'
import {
  checkContextKey,
  checkOptions,
  invalidOption,
  settledState,
  trackInvocation,
} from '@warmstart/core/internal'
import { errorCode, ParamsResolveError, type ResolveFailure } from './errors.js'
import { type ParamRef, type RefValue, refRead } from './ref.js'
import { type HitWindow, hitWindow, type TtlCache } from './ttl-cache.js'

/** A middleware spec: context key → a ref made by `ssm.ref(...)` or `secrets.ref(...)`. */
export type ParamsSpec = Record<string, ParamRef<unknown>>

/** The values a spec resolves to, by key: what the handler finds on its context. */
export type ParamsOf<S extends ParamsSpec> = { -readonly [K in keyof S]: RefValue<S[K]> }

export interface ParamsMiddlewareOptions<S extends ParamsSpec, C extends boolean = boolean> {
  /** What to resolve before the handler. */
  fetch: S
  /**
   * Put each value on the context under its key (`context.flags`). Default true. With false the
   * middleware only warms the caches, and the handler reads with `get()` (a cache hit).
   */
  setToContext?: C
}

/**
 * The context the handler sees after paramsMiddleware: the spec's values under their keys, unless
 * `setToContext` is `false` (or a `boolean` not known when compiling, when nothing is promised).
 */
export type ParamsContext<S extends ParamsSpec, C extends boolean = true> = [C] extends [true]
  ? LambdaContext & ParamsOf<S>
  : LambdaContext

/**
 * In a Middy chain the spec's values reach the handler's context type: `middy().use(
 * paramsMiddleware({ fetch })).handler((event, context) => context.flags)`. A handler given to
 * `middy(handler)` declares them itself (`context: Context & ParamsOf<typeof fetch>`).
 *
 * A Middy middleware that resolves every ref of its spec before the handler, in as few requests
 * as possible (SSM names coalesced into GetParameters batches, secrets into BatchGetSecretValue),
 * and awaits every refresh it started before the invocation ends.
 */
export function paramsMiddleware<S extends ParamsSpec, C extends boolean = true>(
  options: ParamsMiddlewareOptions<S, C>,
): Middleware<unknown, unknown, ParamsContext<S, C>> {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('paramsMiddleware', 'options', 'must be an object')
  }
  checkOptions('paramsMiddleware', options, ['fetch', 'setToContext'])
  const { fetch, setToContext = true } = options
  if (typeof fetch !== 'object' || fetch === null) {
    throw invalidOption(
      'paramsMiddleware',
      'fetch',
      'must be an object of refs (ssm.ref(...), secrets.ref(...))',
    )
  }
  const entries = Object.entries(fetch)
  for (const [key, ref] of entries) {
    if (typeof ref?.resolve !== 'function' || typeof ref.settle !== 'function') {
      throw invalidOption(
        'paramsMiddleware',
        `fetch.${key}`,
        'must be a ref made by ssm.ref(...) or secrets.ref(...)',
      )
    }
    if (setToContext !== false) checkContextKey('paramsMiddleware', `fetch.${key}`, key)
  }
  if (typeof setToContext !== 'boolean')
    throw invalidOption('paramsMiddleware', 'setToContext', 'must be a boolean')
  const keys = entries.map(([key]) => key)
  const refs = entries.map(([, ref]) => ref)
  const windows = specWindows(refs)
  // The values of the last pass whose reads were all settled: while every window holds, a read now
  // would give them again, so a warm invocation reads nothing (a revision check and a clock read per
  // cache) and copies them onto the context in one Object.assign.
  let resolved: Record<string, unknown> = {}
  const assign = (context: Record<string, unknown>, values: Record<string, unknown>): void => {
    if (setToContext) Object.assign(context, values)
  }
  const byKey = (values: readonly unknown[]): Record<string, unknown> => {
    const object: Record<string, unknown> = {}
    for (let i = 0; i < keys.length; i++) object[keys[i] as string] = values[i]
    return object
  }
  const resolveAll = async (context: Record<string, unknown>, pending: unknown[]): Promise<void> => {
    let values: unknown[]
    try {
      values = await Promise.all(pending)
    } catch {
      throw resolveError(entries, await Promise.allSettled(pending))
    }
    assign(context, byKey(values))
  }
  const windowsHold = (): boolean => {
    if (windows === undefined) return false
    for (const window of windows) if (!window.holds()) return false
    for (const window of windows) window.served()
    return true
  }

  // Refreshes started ahead of expiry finish inside this invocation, not after a freeze. Refs of
  // one provider share its settle function: each provider is awaited once. A provider with nothing
  // in flight hands out the same settled promise each time: once seen settled, it is not awaited.
  const settles = [...new Set(refs.map((ref) => ref.settle))]
  const settleFrom = async (first: number, firstPromise: Promise<void>): Promise<void> => {
    await firstPromise
    for (let i = first + 1; i < settles.length; i++) await (settles[i] as () => Promise<void>)()
  }
  const settle = (): Promise<void> | undefined => {
    for (let i = 0; i < settles.length; i++) {
      const promise = (settles[i] as () => Promise<void>)()
      if (settledState(promise).status !== 'fulfilled') return settleFrom(i, promise)
    }
    return undefined
  }

  return {
    before(request) {
      trackInvocation(request.context)
      const context = request.context as Record<string, unknown>
      if (windowsHold()) {
        assign(context, resolved)
        return undefined
      }
      // Every resolve starts in this loop, in one tick, so the providers batch them together. Each
      // read is bounded by its cache's deadline (the invocation's remaining time less the margin),
      // so before() ends in time for Middy's own timeout. A ref hands out the same settled promise
      // while its value is fresh: once settledState has seen it fulfilled, its value is read at once.
      let known = true
      const reads: unknown[] = []
      const values: unknown[] = []
      for (const ref of refs) {
        const read = ref.resolve()
        reads.push(read)
        const state = settledState(read)
        if (state.status === 'fulfilled') values.push(state.value)
        else known = false
      }
      if (!known) return resolveAll(context, reads)
      resolved = byKey(values)
      if (windows !== undefined) for (const window of windows) window.open()
      assign(context, resolved)
      return undefined
    },
    after: settle,
    onError: settle,
  }
}

function resolveError(
  entries: ReadonlyArray<[string, ParamRef<unknown>]>,
  outcomes: PromiseSettledResult<unknown>[],
): ParamsResolveError {
  const failures: ResolveFailure[] = []
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') continue
    const [key, ref] = entries[index] as [string, ParamRef<unknown>]
    failures.push({ key, name: ref.name, code: errorCode(outcome.reason), error: outcome.reason })
  }
  return new ParamsResolveError(failures)
}

/**
 * One hit window per cache the spec reads, over the keys its refs read there (a key once per ref,
 * so that a served window counts every read as a hit); none when a ref was not made by a provider.
 */
function specWindows(refs: readonly ParamRef<unknown>[]): HitWindow[] | undefined {
  const keysByCache = new Map<TtlCache<never>, string[]>()
  for (const ref of refs) {
    const read = refRead(ref)
    if (read === undefined) return undefined
    const keys = keysByCache.get(read.cache)
    if (keys === undefined) keysByCache.set(read.cache, [read.key])
    else keys.push(read.key)
  }
  return [...keysByCache].map(([cache, keys]) => hitWindow(cache, keys))
}
