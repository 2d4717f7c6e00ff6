import { powertoolsDefaults } from './env.js'
import type { Ttl } from './ttl.js'
import { type TtlCache, type TtlCacheOptions, ttlCache } from './ttl-cache.js'

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

/** The ttlCache behind a provider, with the providers' defaults. */
export function providerCache(defaultName: string, options: ProviderCacheOptions): TtlCache {
  return ttlCache({
    name: options.name ?? defaultName,
    ttl: options.ttl ?? powertoolsDefaults().ttl ?? '5m',
    jitter: options.jitter ?? DEFAULT_JITTER,
    refreshAhead: options.refreshAhead ?? 0,
    staleIfError: options.staleIfError ?? 0,
    clock: options.clock,
    random: options.random,
    logger: options.logger,
  })
}
