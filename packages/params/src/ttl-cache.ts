import {
  type Clock,
  type Duration,
  type Logger,
  registerRoot,
  systemClock,
  WarmstartError,
} from '@warmstart/core'
import {
  checkOptions,
  durationOption,
  emit,
  eventChannel,
  invalidOption,
  joinWithin,
  logSafely,
  timeBudget,
  timeLimitOption,
  withTimeout,
} from '@warmstart/core/internal'
import { errorCode, FetchError, FetchTimeoutError } from './errors.js'
import { parseFraction, type Ttl } from './ttl.js'

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
    /**
     * The last good value (`ageMs` old) was served in place of a fresh one: a refresh failed or ran
     * past `staleAfter` (`code` is why), or the key is backing off after failures (`code` is the last one's).
     */
    'cache.stale-served': { cache: string; key: string; code: string; ageMs: number }
  }
}

/** Backoff between failed refreshes of a key while its last good value is served. */
export interface TtlCacheBackoff {
  /** The wait after the first failure; each further failure doubles it. Default `'1s'`. */
  base?: Duration
  /** The longest wait. Default `'1m'`. */
  max?: Duration
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
  /**
   * The longest one fetch may take, every attempt and backoff of the SDK included. Inside an
   * invocation the fetch also ends `deadlineMargin` before the invocation's deadline. Default `'5s'`.
   */
  fetchTimeout?: Duration
  /**
   * With a value to fall back on (a stale one within `staleIfError`, or the current one during a
   * refresh ahead), a refresh that has not succeeded within this budget is aborted and that value
   * served at once. Default `'200ms'`.
   */
  staleAfter?: Duration
  /** Time kept back from the invocation's remaining time, for the handler to use the answer. Default `'250ms'`. */
  deadlineMargin?: Duration
  /**
   * After a failed refresh of a key whose stale value is served, the next refresh waits: `base`,
   * doubled on each further failure up to `max`, times a random factor in [0.5, 1] that the keys
   * failing in the same tick (one batch) share, so they retry together.
   */
  backoff?: TtlCacheBackoff
  clock?: Clock
  /** Source of randomness for jitter and backoff, in [0, 1). Default `Math.random`. */
  random?: () => number
  logger?: Logger
}

/** The option names of ttlCache, for the providers' own option checks. */
export const TTL_CACHE_OPTIONS = [
  'name',
  'ttl',
  'jitter',
  'refreshAhead',
  'staleIfError',
  'fetchTimeout',
  'staleAfter',
  'deadlineMargin',
  'backoff',
  'clock',
  'random',
  'logger',
] as const

export interface TtlCacheStats {
  readonly entries: number
  readonly hits: number
  readonly misses: number
  readonly refreshes: number
  readonly failures: number
  readonly staleServed: number
}

/**
 * Fetches the value of `key`. `signal` aborts when the fetch's budget is spent: pass it on to the
 * request (`client.send(command, { abortSignal: signal })`) so that nothing runs past it.
 */
export type Loader<V> = (key: string, signal: AbortSignal) => Promise<V>

export interface TtlCacheGetOptions {
  /** This entry's TTL, instead of the cache's. */
  ttl?: Ttl
}

export interface TtlCache<V = unknown> {
  /**
   * The value of `key`: the cached one while fresh, else `load(key)`'s. Concurrent reads of a
   * missing or expired key share one load. A failed load is never cached. Rejects (never throws)
   * on a bad key or option.
   */
  get(key: string, load: Loader<V>, options?: TtlCacheGetOptions): Promise<V>
  /** Fetches `key` now with its last loader (or `load`), whatever its age, and returns the new value. */
  refresh(key: string, load?: Loader<V>): Promise<V>
  /** Whether `key` holds a value or a first fetch in flight. */
  has(key: string): boolean
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
  /** The random draw of the fetch in flight's tick: its TTL spread and, if it fails, its backoff. */
  draw: number
  /** When the fetch in flight started: a failed one's backoff counts from then. */
  startedAt: number
  /** When the fetch in flight gives up (a `Date.now()` time): reads that join it wait no longer. */
  deadline: number
  /** Failed refreshes since the last success: sets the backoff. */
  failures: number
  /** While the stale value is served after a failure, no refresh starts before this time. */
  retryAt: number
  /** The code of the last failure, for the events of reads served stale during the backoff. */
  lastCode: string
}

/** A run of failed refreshes across the cache, for the log: one line when it starts, one when it ends. */
interface Outage {
  readonly since: number
  failures: number
  readonly code: string
}

const COMPONENT = 'ttlCache'
const SETTLED = Promise.resolve()
// The events of the hot paths: `active` is the channel's own "anyone subscribed" check.
const hitEvents = /* @__PURE__ */ eventChannel('cache.hit')
const staleEvents = /* @__PURE__ */ eventChannel('cache.stale-served')

/**
 * A promise that a set of reads of one cache answers as it did: while the window holds, get() of
 * each of its keys would hand out the same promise as when it was opened, and start nothing (no
 * fetch, no refresh ahead). A caller that keeps what those reads gave can serve it again without
 * reading. Internal to params: the middleware's warm path.
 */
export interface HitWindow {
  /** Takes the keys' state now. Call it right after reads of every key that were all fresh hits. */
  open(): void
  /**
   * Whether every key would still be a fresh hit of the same promise: nothing stored, invalidated
   * or cleared since open(), no key at its refresh-ahead point or expiry, and no one listening for
   * hit events (those are published by get()).
   */
  holds(): boolean
  /** Counts the reads the caller served from the window as the hits they are, in stats(). */
  served(): void
}

/** A window over `keys` of `cache` (a cache made by this module), closed until opened. */
export function hitWindow<V>(cache: TtlCache<V>, keys: readonly string[]): HitWindow {
  return TtlCacheImpl.window(cache as TtlCacheImpl<V>, keys)
}

/** Creates a TTL cache of async loaders. See {@link TtlCacheOptions}. */
export function ttlCache<V = unknown>(options: TtlCacheOptions = {}): TtlCache<V> {
  return new TtlCacheImpl<V>(options, COMPONENT)
}

/** A ttlCache whose option errors name `component`, the factory the user called. */
export function componentCache<V>(options: TtlCacheOptions, component: string): TtlCache<V> {
  return new TtlCacheImpl<V>(options, component)
}

function badLoader(component: string): Promise<never> {
  return Promise.reject(invalidOption(component, 'load', 'must be a function (key, signal) => Promise'))
}

class TtlCacheImpl<V> implements TtlCache<V> {
  readonly #name: string
  readonly #component: string
  readonly #ttl: number
  readonly #jitter: number
  readonly #refreshAhead: number
  readonly #staleIfError: number
  readonly #fetchTimeout: number
  readonly #staleAfter: number
  readonly #margin: number
  readonly #backoffBase: number
  readonly #backoffMax: number
  readonly #clock: Clock
  readonly #random: () => number
  readonly #logger: Logger | undefined
  readonly #entries = new Map<string, Entry<V>>()
  readonly #pending = new Set<Promise<unknown>>()
  /** The random draw shared by the fetches and failures of the current tick, until the tick ends. */
  #tickDraw: number | undefined
  #outage: Outage | undefined
  #hits = 0
  #misses = 0
  #refreshes = 0
  // Bumped whenever what get() answers for a key may change: a store, an invalidation, a clear. The
  // leak guard skips a cache whose revision it has read clean; a hit window holds while it is unchanged.
  #revision = 0
  #failures = 0
  #staleServed = 0

  constructor(options: TtlCacheOptions, component: string) {
    if (options === undefined) options = {}
    checkOptions(component, options, TTL_CACHE_OPTIONS)
    this.#component = component
    const name = options.name ?? 'cache'
    if (typeof name !== 'string' || name === '')
      throw invalidOption(component, 'name', 'must be a non-empty string')
    this.#name = name
    this.#ttl = durationOption(component, 'ttl', options.ttl, 300_000, true)
    this.#jitter = parseFraction(options.jitter ?? 0, component, 'jitter', '0.1 for ±10%')
    this.#refreshAhead = parseFraction(
      options.refreshAhead ?? 0,
      component,
      'refreshAhead',
      '0.2 for the last 20%',
    )
    this.#staleIfError = durationOption(component, 'staleIfError', options.staleIfError, 0, true)
    this.#fetchTimeout = timeLimitOption(component, 'fetchTimeout', options.fetchTimeout, 5_000)
    this.#staleAfter = durationOption(component, 'staleAfter', options.staleAfter, 200)
    this.#margin = durationOption(component, 'deadlineMargin', options.deadlineMargin, 250)
    checkOptions(component, options.backoff, ['base', 'max'], 'backoff')
    this.#backoffBase = durationOption(component, 'backoff.base', options.backoff?.base, 1_000)
    this.#backoffMax = durationOption(component, 'backoff.max', options.backoff?.max, 60_000)
    this.#clock = options.clock ?? systemClock
    this.#random = options.random ?? Math.random
    this.#logger = options.logger
    if (typeof this.#clock.now !== 'function')
      throw invalidOption(component, 'clock', 'must have a now() method')
    if (typeof this.#random !== 'function') throw invalidOption(component, 'random', 'must be a function')
    // The leak guard skips the cache while this revision is unchanged. Every stored value comes from a
    // fetch counted (miss or refresh) when it started; while a refresh-ahead runs, a value may still
    // land without a new count, so the revision is unknown then. (A get() the handler does not await
    // can land a value after the check too: the fast check may then miss it.)
    registerRoot(`ttl:${name}`, this, TtlCacheImpl.inspect, {
      revision: (cache) => (cache.#pending.size > 0 ? undefined : cache.#revision),
    })
  }

  /** See {@link hitWindow}. */
  static window<V>(cache: TtlCacheImpl<V>, keys: readonly string[]): HitWindow {
    let revision = -1
    let since = 0
    let until = 0
    return {
      open() {
        revision = cache.#revision
        since = 0
        until = Number.POSITIVE_INFINITY
        for (const key of keys) {
          const entry = cache.#entries.get(key)
          // Past refreshAt a get() starts a refresh ahead; past expiresAt it fetches or serves stale.
          const end = entry?.current === undefined ? 0 : Math.min(entry.expiresAt, entry.refreshAt)
          if (end < until) until = end
          if (entry !== undefined && entry.fetchedAt > since) since = entry.fetchedAt
        }
      },
      holds() {
        if (revision !== cache.#revision || hitEvents.active) return false
        const now = cache.#clock.now()
        // Before `since` the clock was stepped back: get() decides (it fetches again).
        return now < until && now >= since
      },
      served() {
        cache.#hits += keys.length
      },
    }
  }

  /** What the leak guard looks into: each key with its cached value. */
  static inspect(cache: TtlCacheImpl<unknown>): Array<readonly [string, unknown]> {
    const pairs: Array<readonly [string, unknown]> = []
    for (const [key, entry] of cache.#entries) if (entry.current !== undefined) pairs.push([key, entry.value])
    return pairs
  }

  get(key: string, load: Loader<V>, options?: TtlCacheGetOptions): Promise<V> {
    // Checked on a hit too: a wrong loader or ttl is an error at every read, not only at the one that
    // fetches (a hit at the refresh-ahead point keeps its loader for the refresh it starts).
    if (typeof load !== 'function') return badLoader(this.#component)
    let ttl = this.#ttl
    if (options?.ttl !== undefined) {
      try {
        ttl = durationOption(this.#component, 'ttl', options.ttl, this.#ttl, true)
      } catch (error) {
        return Promise.reject(error)
      }
    }
    const entry = this.#entries.get(key)
    if (entry !== undefined && entry.current !== undefined) {
      const now = this.#clock.now()
      // A wall clock stepped back to before the fetch (an NTP step, a host's time set) would
      // stretch the TTL by the step, and the time since the fetch is unknown: it counts as expired
      // (fetched again, with the value still there to fall back on).
      if (now < entry.expiresAt && now >= entry.fetchedAt) {
        this.#hits++
        if (hitEvents.active) hitEvents.publish({ cache: this.#name, key })
        if (now >= entry.refreshAt && entry.inflight === undefined && now >= entry.retryAt) {
          entry.load = load
          this.#refreshAhead_(key, entry)
        }
        return entry.current
      }
      // Backing off after a failed refresh: the stale value is served without asking again.
      if (
        entry.inflight === undefined &&
        now < entry.retryAt &&
        now >= entry.startedAt &&
        now - entry.expiresAt < this.#staleIfError
      ) {
        return this.#serveStale(key, entry, entry.lastCode, now, entry.current)
      }
    }
    if (entry?.inflight !== undefined) return this.#join(key, entry, entry.inflight)
    if (typeof key !== 'string' || key === '')
      return Promise.reject(invalidOption(this.#component, 'key', 'must be a non-empty string'))
    this.#misses++
    emit('cache.miss', { cache: this.#name, key })
    if (entry === undefined) {
      const created: Entry<V> = {
        load,
        ttl,
        current: undefined,
        value: undefined,
        fetchedAt: 0,
        expiresAt: 0,
        refreshAt: 0,
        inflight: undefined,
        draw: 0.5,
        startedAt: 0,
        deadline: 0,
        failures: 0,
        retryAt: 0,
        lastCode: '',
      }
      this.#entries.set(key, created)
      return this.#fetch(key, created, 'miss')
    }
    entry.load = load
    entry.ttl = ttl
    return this.#fetch(key, entry, 'expired')
  }

  refresh(key: string, load?: Loader<V>): Promise<V> {
    if (load !== undefined && typeof load !== 'function') return badLoader(this.#component)
    const entry = this.#entries.get(key)
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

  has(key: string): boolean {
    return this.#entries.has(key)
  }

  invalidate(key: string): boolean {
    this.#revision++
    return this.#entries.delete(key)
  }

  clear(): void {
    this.#revision++
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

  #refreshAhead_(key: string, entry: Entry<V>): void {
    // A failure is reported by #fetch and settles to the stale-if-error rules; settle() never rejects.
    const refreshing = this.#fetch(key, entry, 'ahead').then(
      () => undefined,
      () => undefined,
    )
    this.#pending.add(refreshing)
    void refreshing.finally(() => this.#pending.delete(refreshing))
  }

  /** Whether a failed fetch of `entry` now would still have a value to serve instead. */
  #hasFallback(entry: Entry<V>, reason: string, now: number): boolean {
    if (entry.current === undefined || reason === 'forced') return false
    return now < entry.expiresAt || now - entry.expiresAt < this.#staleIfError
  }

  #fetch(key: string, entry: Entry<V>, reason: 'miss' | 'expired' | 'ahead' | 'forced'): Promise<V> {
    if (reason !== 'miss') {
      this.#refreshes++
      emit('cache.refresh', { cache: this.#name, key, reason })
    }
    // The fetches of one tick (one batch) share the draw and the start time: they expire together
    // and, failing together, back off together, though each one's budget ends in its own timer.
    entry.draw = this.#draw()
    entry.startedAt = this.#clock.now()
    // The fetch ends before the invocation does; with a value to fall back on, much sooner.
    let budget = timeBudget(this.#fetchTimeout, this.#margin)
    if (this.#hasFallback(entry, reason, entry.startedAt)) budget = Math.min(budget, this.#staleAfter)
    entry.deadline = Date.now() + budget
    const load = entry.load
    const loading = withTimeout(
      (signal) => load(key, signal),
      budget,
      () => new FetchTimeoutError(this.#name, key, budget),
    )
    const settled: Promise<V> = loading.then(
      (value) => {
        if (this.#entries.get(key) === entry && entry.inflight === settled) {
          // Hits hand out this same promise (fulfilled with `value` once this returns): a warm read
          // allocates nothing.
          this.#store(entry, value, settled)
        }
        return value
      },
      (error: unknown): V => {
        // Replaced by a forced refresh, or invalidated: the entry belongs to what came after, and
        // this failure answers its own callers only.
        const own = entry.inflight === settled && this.#entries.get(key) === entry
        if (own) entry.inflight = undefined
        return this.#failed(key, entry, reason, error, own)
      },
    )
    entry.inflight = settled
    return settled
  }

  /**
   * A read that finds a fetch in flight waits for it, but no longer than its own invocation allows
   * (under Managed Instances it may have far less time left than the one that started the fetch).
   * Giving up, it is served the value in hand where the stale-if-error rules allow, as a failed
   * fetch would be; the fetch goes on for the callers with more time.
   */
  #join(key: string, entry: Entry<V>, inflight: Promise<V>): Promise<V> {
    let gaveUp: FetchTimeoutError | undefined
    const joined = joinWithin(inflight, entry.deadline, this.#margin, (ms) => {
      gaveUp = new FetchTimeoutError(this.#name, key, ms)
      return gaveUp
    })
    if (joined === inflight) return inflight
    return joined.catch((error: unknown) => {
      if (error !== gaveUp) throw error
      return this.#failed(key, entry, entry.current === undefined ? 'miss' : 'expired', error, false)
    })
  }

  /**
   * One random draw for all the fetches started in one tick: values read together (one batched
   * request) expire together, and back off together after failing together, so they are fetched
   * again together, while environments still spread apart.
   */
  #draw(): number {
    if (this.#tickDraw === undefined) {
      this.#tickDraw = this.#random()
      queueMicrotask(() => {
        this.#tickDraw = undefined
      })
    }
    return this.#tickDraw
  }

  #store(entry: Entry<V>, value: V, current: Promise<V>): void {
    this.#revision++
    const now = this.#clock.now()
    const spread = this.#jitter === 0 ? 1 : 1 + this.#jitter * (2 * entry.draw - 1)
    const ttl = entry.ttl * spread // Infinity stays Infinity: the spread is > 0
    entry.value = value
    entry.current = current
    entry.fetchedAt = now
    entry.expiresAt = now + ttl
    entry.refreshAt = this.#refreshAhead > 0 ? now + ttl * (1 - this.#refreshAhead) : Number.POSITIVE_INFINITY
    entry.inflight = undefined
    entry.failures = 0
    entry.retryAt = 0
    const outage = this.#outage
    if (outage !== undefined) {
      this.#outage = undefined
      logSafely(this.#logger, 'info', `${this.#name}: refreshes succeed again`, {
        cache: this.#name,
        failures: outage.failures,
        durationMs: now - outage.since,
      })
    }
  }

  /** `own`: the fetch was still the entry's, which then backs off or, never fetched, is forgotten. */
  #failed(key: string, entry: Entry<V>, reason: string, error: unknown, own: boolean): V {
    const code = errorCode(error)
    this.#failures++
    if (reason !== 'miss') emit('cache.refresh-failed', { cache: this.#name, key, code })
    const now = this.#clock.now()
    if (this.#hasFallback(entry, reason, now) && this.#entries.get(key) === entry) {
      if (own) this.#backOff(key, entry, code, now)
      if (now < entry.expiresAt) return entry.value as V // a refresh ahead: the current value stays
      return this.#serveStaleValue(key, entry, code, now)
    }
    // Nothing good to fall back on: forget a never-fetched entry so that no rejection is kept.
    if (own && entry.current === undefined) this.#entries.delete(key)
    throw error instanceof WarmstartError ? error : new FetchError(this.#name, key, error)
  }

  #backOff(key: string, entry: Entry<V>, code: string, now: number): void {
    entry.failures++
    entry.lastCode = code
    const wait = Math.min(this.#backoffMax, this.#backoffBase * 2 ** (entry.failures - 1))
    entry.retryAt = entry.startedAt + wait * (0.5 + 0.5 * entry.draw)
    this.#reportFailure(key, code, now, now - entry.fetchedAt)
  }

  /** One warning when refreshes start failing, then a count until one succeeds (logged then). */
  #reportFailure(key: string, code: string, now: number, ageMs: number): void {
    if (this.#outage !== undefined) {
      this.#outage.failures++
      return
    }
    this.#outage = { since: now, failures: 1, code }
    logSafely(
      this.#logger,
      'warn',
      `${this.#name}: refreshing "${key}" failed; serving the last good value, backing off, and counting further failures until a refresh succeeds`,
      { cache: this.#name, key, code, ageMs },
    )
  }

  #serveStale(key: string, entry: Entry<V>, code: string, now: number, current: Promise<V>): Promise<V> {
    this.#serveStaleValue(key, entry, code, now)
    return current
  }

  #serveStaleValue(key: string, entry: Entry<V>, code: string, now: number): V {
    this.#staleServed++
    if (staleEvents.active)
      staleEvents.publish({ cache: this.#name, key, code, ageMs: now - entry.fetchedAt })
    return entry.value as V
  }
}
