import {
  type Clock,
  type Duration,
  emit,
  eventListening,
  invalidOption,
  type Logger,
  registerRoot,
  systemClock,
  WarmstartError,
} from '@warmstart/core'
import { errorCode, FetchError } from './errors.js'
import { parseFraction, parseTtl, type Ttl } from './ttl.js'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    /** A read was served a fresh cached value. */
    'cache.hit': { cache: string; key: string }
    /** A read found no fresh value and started a fetch (joiners of that fetch emit nothing). */
    'cache.miss': { cache: string; key: string }
    /** A value was fetched again: expired, refresh-ahead, or forced with `refresh(key)`. */
    'cache.refresh': { cache: string; key: string; reason: 'expired' | 'ahead' | 'forced' }
    /** A refresh failed; `code` is the cause's error code. */
    'cache.refresh-failed': { cache: string; key: string; code: string }
    /** A refresh failed and the last good value (`ageMs` old) was served instead. */
    'cache.stale-served': { cache: string; key: string; code: string; ageMs: number }
  }
}

export interface TtlCacheOptions {
  /** Names the cache in events, logs, errors and the leak guard's registry (`ttl:<name>`). Default `'cache'`. */
  name?: string
  /** Default time to live of an entry. Default `'5m'`. */
  ttl?: Ttl
  /**
   * Spread of TTLs: `0.1` makes each anywhere within ±10%. One draw is shared by the fetches
   * started in the same tick, so values read together expire together. Default 0.
   */
  jitter?: number
  /**
   * Refresh ahead: a read within this last share of an entry's TTL (`0.2` = the last 20%) is served
   * the current value and starts a refresh, which `settle()` awaits. Default 0 (off).
   */
  refreshAhead?: number
  /** When a refresh fails, serve the last good value for up to this long past its expiry. Default 0. */
  staleIfError?: Duration | 'forever'
  clock?: Clock
  /** Source of randomness for jitter, in [0, 1). Default `Math.random`. */
  random?: () => number
  logger?: Logger
}

export interface TtlCacheStats {
  readonly entries: number
  readonly hits: number
  readonly misses: number
  readonly refreshes: number
  readonly failures: number
  readonly staleServed: number
}

export type Loader<V> = (key: string) => Promise<V>

export interface TtlCacheGetOptions {
  /** This entry's TTL, instead of the cache's. */
  ttl?: Ttl
}

export interface TtlCache<V = unknown> {
  /**
   * The value of `key`: the cached one while fresh, else `load(key)`'s. Concurrent reads of a
   * missing or expired key share one load. A failed load is never cached.
   */
  get(key: string, load: Loader<V>, options?: TtlCacheGetOptions): Promise<V>
  /** Fetches `key` now with its last loader (or `load`), whatever its age, and returns the new value. */
  refresh(key: string, load?: Loader<V>): Promise<V>
  /** Forgets `key`; the next read fetches it. Returns whether it was cached. */
  invalidate(key: string): boolean
  /** Forgets every key. */
  clear(): void
  /** Resolves when every refresh started ahead of expiry has finished (it never rejects). */
  settle(): Promise<void>
  stats(): TtlCacheStats
}

interface Entry<V> {
  load: Loader<V>
  ttl: number
  /** The last good value, already wrapped, so that a hit allocates nothing. */
  current: Promise<V> | undefined
  value: V | undefined
  fetchedAt: number
  expiresAt: number
  refreshAt: number
  inflight: Promise<V> | undefined
  /** The TTL multiplier drawn for the fetch in flight (1 ± jitter). */
  spread: number
}

const COMPONENT = 'ttlCache'
const SETTLED = Promise.resolve()

/** Creates a TTL cache of async loaders. See {@link TtlCacheOptions}. */
export function ttlCache<V = unknown>(options: TtlCacheOptions = {}): TtlCache<V> {
  return new TtlCacheImpl<V>(options)
}

class TtlCacheImpl<V> implements TtlCache<V> {
  readonly #name: string
  readonly #ttl: number
  readonly #jitter: number
  readonly #refreshAhead: number
  readonly #staleIfError: number
  readonly #clock: Clock
  readonly #random: () => number
  readonly #logger: Logger | undefined
  readonly #entries = new Map<string, Entry<V>>()
  readonly #pending = new Set<Promise<unknown>>()
  /** The jitter drawn for fetches started in the current tick, until the tick ends. */
  #tickSpread: number | undefined
  #hits = 0
  #misses = 0
  #refreshes = 0
  // Bumped on every store, so the leak guard can skip a cache that stored nothing since it last read it clean.
  #stores = 0
  #failures = 0
  #staleServed = 0

  constructor(options: TtlCacheOptions) {
    if (typeof options !== 'object' || options === null) {
      throw invalidOption(COMPONENT, 'options', 'must be an object')
    }
    const name = options.name ?? 'cache'
    if (typeof name !== 'string' || name === '')
      throw invalidOption(COMPONENT, 'name', 'must be a non-empty string')
    this.#name = name
    this.#ttl = parseTtl(options.ttl ?? '5m', COMPONENT, 'ttl')
    this.#jitter = parseFraction(options.jitter ?? 0, COMPONENT, 'jitter', '0.1 for ±10%')
    this.#refreshAhead = parseFraction(
      options.refreshAhead ?? 0,
      COMPONENT,
      'refreshAhead',
      '0.2 for the last 20%',
    )
    this.#staleIfError = parseTtl(options.staleIfError ?? 0, COMPONENT, 'staleIfError')
    this.#clock = options.clock ?? systemClock
    this.#random = options.random ?? Math.random
    this.#logger = options.logger
    if (typeof this.#clock.now !== 'function')
      throw invalidOption(COMPONENT, 'clock', 'must have a now() method')
    if (typeof this.#random !== 'function') throw invalidOption(COMPONENT, 'random', 'must be a function')
    // The leak guard skips the cache while this revision is unchanged. Every stored value comes from a
    // fetch counted (miss or refresh) when it started; while a refresh-ahead runs, a value may still
    // land without a new count, so the revision is unknown then. (A get() the handler does not await
    // can land a value after the check too: the fast check may then miss it.)
    registerRoot(`ttl:${name}`, this, TtlCacheImpl.inspect, {
      revision: (cache) => (cache.#pending.size > 0 ? undefined : cache.#stores),
    })
  }

  /** What the leak guard looks into: each key with its cached value. */
  static inspect(cache: TtlCacheImpl<unknown>): Array<readonly [string, unknown]> {
    const pairs: Array<readonly [string, unknown]> = []
    for (const [key, entry] of cache.#entries) if (entry.current !== undefined) pairs.push([key, entry.value])
    return pairs
  }

  get<T extends V>(key: string, load: Loader<T>, options?: TtlCacheGetOptions): Promise<T> {
    const entry = this.#entries.get(key) as Entry<T> | undefined
    if (entry !== undefined && entry.current !== undefined) {
      const now = this.#clock.now()
      if (now < entry.expiresAt) {
        this.#hits++
        if (eventListening.active) emit('cache.hit', { cache: this.#name, key })
        if (now >= entry.refreshAt && entry.inflight === undefined) {
          entry.load = load
          this.#refreshAhead_(key, entry)
        }
        return entry.current
      }
    }
    if (entry?.inflight !== undefined) return entry.inflight
    const ttl = options?.ttl === undefined ? this.#ttl : parseTtl(options.ttl, COMPONENT, 'ttl')
    this.#misses++
    emit('cache.miss', { cache: this.#name, key })
    if (entry === undefined) {
      const created: Entry<T> = {
        load,
        ttl,
        current: undefined,
        value: undefined,
        fetchedAt: 0,
        expiresAt: 0,
        refreshAt: 0,
        inflight: undefined,
        spread: 1,
      }
      this.#entries.set(key, created as unknown as Entry<V>)
      return this.#fetch(key, created, 'miss')
    }
    entry.load = load
    entry.ttl = ttl
    return this.#fetch(key, entry, 'expired')
  }

  refresh<T extends V>(key: string, load?: Loader<T>): Promise<T> {
    const entry = this.#entries.get(key) as Entry<T> | undefined
    if (entry === undefined) {
      if (load === undefined) {
        return Promise.reject(
          new WarmstartError(
            'ERR_CACHE_UNKNOWN_KEY',
            `${this.#name}: cannot refresh "${key}": it was never read`,
          ),
        )
      }
      return this.get(key, load)
    }
    if (load !== undefined) entry.load = load
    // A forced refresh replaces whatever is in flight: the caller knows the old value is wrong.
    return this.#fetch(key, entry, 'forced')
  }

  invalidate(key: string): boolean {
    return this.#entries.delete(key)
  }

  clear(): void {
    this.#entries.clear()
  }

  settle(): Promise<void> {
    return this.#pending.size === 0 ? SETTLED : this.#settlePending()
  }

  async #settlePending(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending)
  }

  stats(): TtlCacheStats {
    return {
      entries: this.#entries.size,
      hits: this.#hits,
      misses: this.#misses,
      refreshes: this.#refreshes,
      failures: this.#failures,
      staleServed: this.#staleServed,
    }
  }

  #refreshAhead_<T extends V>(key: string, entry: Entry<T>): void {
    // A failure is reported by #fetch and settles to the stale-if-error rules; settle() never rejects.
    const refreshing = this.#fetch(key, entry, 'ahead').then(
      () => undefined,
      () => undefined,
    )
    this.#pending.add(refreshing)
    void refreshing.finally(() => this.#pending.delete(refreshing))
  }

  #fetch<T extends V>(
    key: string,
    entry: Entry<T>,
    reason: 'miss' | 'expired' | 'ahead' | 'forced',
  ): Promise<T> {
    if (reason !== 'miss') {
      this.#refreshes++
      emit('cache.refresh', { cache: this.#name, key, reason })
    }
    entry.spread = this.#spread()
    let loading: Promise<T>
    try {
      loading = entry.load(key)
    } catch (error) {
      loading = Promise.reject(error)
    }
    const settled = loading.then(
      (value) => {
        if (this.#entries.get(key) === (entry as unknown as Entry<V>) && entry.inflight === settled) {
          // Hits hand out this same promise (fulfilled with `value` once this returns), so callers
          // that remember the promise they awaited see a warm read as the same one.
          this.#store(entry, value, settled)
        }
        return value
      },
      (error: unknown) => {
        if (entry.inflight === settled) entry.inflight = undefined
        return this.#failed(key, entry, reason, error)
      },
    )
    entry.inflight = settled
    return settled
  }

  /**
   * One jitter draw for all the fetches started in one tick: values read together (one batched
   * request) then expire together and are fetched again together, while environments still
   * spread apart.
   */
  #spread(): number {
    if (this.#jitter === 0) return 1
    if (this.#tickSpread === undefined) {
      this.#tickSpread = 1 + this.#jitter * (2 * this.#random() - 1)
      queueMicrotask(() => {
        this.#tickSpread = undefined
      })
    }
    return this.#tickSpread
  }

  #store<T extends V>(entry: Entry<T>, value: T, current: Promise<T>): void {
    this.#stores++
    const now = this.#clock.now()
    const ttl = entry.ttl * entry.spread // Infinity stays Infinity: the spread is > 0
    entry.value = value
    entry.current = current
    entry.fetchedAt = now
    entry.expiresAt = now + ttl
    entry.refreshAt = this.#refreshAhead > 0 ? now + ttl * (1 - this.#refreshAhead) : Number.POSITIVE_INFINITY
    entry.inflight = undefined
  }

  #failed<T extends V>(key: string, entry: Entry<T>, reason: string, error: unknown): T {
    const code = errorCode(error)
    this.#failures++
    if (reason !== 'miss') emit('cache.refresh-failed', { cache: this.#name, key, code })
    const now = this.#clock.now()
    if (reason === 'ahead' && now < entry.expiresAt) {
      this.#logger?.warn(
        `${this.#name}: refreshing "${key}" ahead of expiry failed; the current value stays`,
        {
          cache: this.#name,
          key,
          code,
        },
      )
      return entry.value as T
    }
    if (reason !== 'forced' && entry.current !== undefined && now - entry.expiresAt < this.#staleIfError) {
      this.#staleServed++
      const ageMs = now - entry.fetchedAt
      emit('cache.stale-served', { cache: this.#name, key, code, ageMs })
      this.#logger?.warn(`${this.#name}: refreshing "${key}" failed; serving the last good value`, {
        cache: this.#name,
        key,
        code,
        ageMs,
      })
      return entry.value as T
    }
    // Nothing good to fall back on: forget a never-fetched entry so that no rejection is kept.
    if (entry.current === undefined && this.#entries.get(key) === (entry as unknown as Entry<V>)) {
      this.#entries.delete(key)
    }
    throw error instanceof WarmstartError ? error : new FetchError(this.#name, key, error)
  }
}
