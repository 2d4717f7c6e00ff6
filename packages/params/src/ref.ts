import type { Loader, TtlCache, TtlCacheGetOptions } from './ttl-cache.js'

/**
 * A value for a middleware spec: where it comes from and how to read it, with its type. Made by
 * `ssm.ref(...)` and `secrets.ref(...)`; `paramsMiddleware` resolves a spec of them.
 */
export interface ParamRef<T> {
  readonly source: 'ssm' | 'secretsmanager'
  /** The parameter name or secret id. */
  readonly name: string
  /** Reads the value through its provider's cache. */
  resolve(): Promise<T>
  /** Resolves when the provider's refreshes started ahead of expiry have finished. */
  settle(): Promise<void>
}

/** The type of the value a ref resolves to. */
export type RefValue<R> = R extends ParamRef<infer T> ? T : never

/**
 * The cache entry a provider's ref reads, under a symbol so that it stays out of the public type:
 * the middleware serves a spec's values again without reading while a hitWindow over them holds.
 */
export const REF_READ = Symbol('warmstart.params.ref-read')

export interface RefRead {
  readonly cache: TtlCache<never>
  readonly key: string
}

/** Where a ref reads, when a provider made it; a hand-made ref has no such entry. */
export function refRead(ref: ParamRef<unknown>): RefRead | undefined {
  return (ref as { [REF_READ]?: RefRead })[REF_READ]
}

/**
 * A provider's ref, built once: each resolve is one cache read, with no spec, key or loader to
 * make, through `view` (a transform's reader) when there is one.
 */
export function providerRef<V>(
  source: ParamRef<unknown>['source'],
  name: string,
  read: { cache: TtlCache<V>; key: string; load: Loader<V>; options: TtlCacheGetOptions | undefined },
  view: ((raw: Promise<V>) => Promise<unknown>) | undefined,
  settle: () => Promise<void>,
): ParamRef<unknown> {
  const { cache, key, load, options } = read
  return {
    source,
    name,
    resolve:
      view === undefined ? () => cache.get(key, load, options) : () => view(cache.get(key, load, options)),
    settle,
    [REF_READ]: { cache, key },
  } as ParamRef<unknown>
}
