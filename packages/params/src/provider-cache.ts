import { powertoolsDefaults } from './env.js'
import type { Ttl } from './ttl.js'
import { componentCache, TTL_CACHE_OPTIONS, type TtlCache, type TtlCacheOptions } from './ttl-cache.js'

/** The caching options both providers take: ttlCache's, with the providers' own defaults. */
export interface ProviderCacheOptions extends Omit<TtlCacheOptions, 'name' | 'ttl' | 'jitter'> {
  /** Names the cache in events, logs and errors. Default `'ssm'` / `'secrets'`. */
  name?: string
  /** Default TTL of a value. Default `'5m'` (or `POWERTOOLS_PARAMETERS_MAX_AGE` seconds when set). */
  ttl?: Ttl
  /**
   * Spread of each TTL, so that environments started together do not refresh together.
   * Default 0.1 (±10%).
   */
  jitter?: number
}

export const DEFAULT_JITTER = 0.1

/** The option names both providers take (each adds its own). */
export const PROVIDER_OPTIONS: readonly string[] = TTL_CACHE_OPTIONS

/** The ttlCache behind a provider, with the providers' defaults; its option errors name `component`. */
export function providerCache<V>(
  defaultName: string,
  options: ProviderCacheOptions,
  component: string,
): TtlCache<V> {
  // Only the cache's own options go on: the provider has checked its own (client, batch) already.
  const cacheOptions: Record<string, unknown> = {}
  for (const key of TTL_CACHE_OPTIONS) {
    const value = (options as Record<string, unknown>)[key]
    if (value !== undefined) cacheOptions[key] = value
  }
  cacheOptions.name = options.name ?? defaultName
  cacheOptions.ttl = options.ttl ?? powertoolsDefaults().ttl ?? '5m'
  cacheOptions.jitter = options.jitter ?? DEFAULT_JITTER
  return componentCache<V>(cacheOptions as TtlCacheOptions, component)
}
