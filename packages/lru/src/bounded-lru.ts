import {
  type Duration,
  parseDuration,
  type RegisterRootOptions,
  registerRoot,
  WarmstartError,
} from '@warmstart/core'
import { eventChannel, joinWithin, timeBudget, withTimeout } from '@warmstart/core/internal'
import { LRUCache } from 'lru-cache'
import { type BoundedLruOptions, resolveOptions } from './options.js'
import { ENTRY_OVERHEAD_BYTES, estimateSize } from './size-of.js'
import { ttlClock } from './ttl-clock.js'

// Events carry the cache's name and never a key: keys are often taken from requests (user ids).
declare module '@warmstart/core' {
  interface WarmstartEventMap {
    'lru.hit': { cache: string }
    'lru.miss': { cache: string }
    /** An entry was pushed out to stay within `max` or `maxBytes`. */
    'lru.evict': { cache: string }
    /** An entry larger than the whole byte budget was not stored. */
    'lru.refused': { cache: string; size: number; maxBytes: number }
    /** A `getOrLoad` load did not settle within its time (`ms`), or a caller that joined it gave up by its own deadline; they got ERR_LRU_LOAD_TIMEOUT. */
    'lru.load-timeout': { cache: string; ms: number }
  }
}

// Each event's channel, held once: the hot paths test `active` (no subscriber, nothing built).
const hitChannel = /* @__PURE__ */ eventChannel('lru.hit')
const missChannel = /* @__PURE__ */ eventChannel('lru.miss')
const evictChannel = /* @__PURE__ */ eventChannel('lru.evict')
const refusedChannel = /* @__PURE__ */ eventChannel('lru.refused')
const timeoutChannel = /* @__PURE__ */ eventChannel('lru.load-timeout')
/** Kept back from the invocation's remaining time so that the handler can still answer after a load times out. */
const LOAD_MARGIN_MS = 100

/** A `getOrLoad` loader ran past its time: the key is free again, and the loader's late result is dropped. */
export class LruLoadTimeoutError extends WarmstartError {
  readonly ms: number

  /** `joined`: the caller joined a load in flight and gave up by its own deadline; the load goes on. */
  constructor(cache: string, ms: number, joined = false) {
    super(
      'ERR_LRU_LOAD_TIMEOUT',
      joined
        ? `boundedLru "${cache}": the load in flight did not settle within ${ms} ms (what was left of the invocation); it goes on for the callers with more time`
        : `boundedLru "${cache}": the loader did not settle within ${ms} ms (loadTimeout, or what was left of the invocation); the next call loads again`,
    )
    this.name = 'LruLoadTimeoutError'
    this.ms = ms
  }
}

export interface LruStats {
  hits: number
  misses: number
  /** Entries pushed out by the bounds (not deletes, expiries or replacements). */
  evictions: number
  /** Entries refused because they alone exceed `maxBytes`. */
  refused: number
  entries: number
  /** Bytes held, as estimated by `sizeOf` (the default counts `ENTRY_OVERHEAD_BYTES` per entry). */
  bytes: number
}

export interface SetOptions {
  /** This entry's time to live, instead of the cache's `ttl`. */
  ttl?: Duration
}

/** A `getOrLoad` in flight, and when its time limit ends (a `Date.now()` time). */
interface Load<V> {
  readonly promise: Promise<V>
  readonly deadline: number
}

/** Keys and values are anything but `undefined` and `null` (what lru-cache stores). */
export class BoundedLru<K extends {}, V extends {}> {
  readonly name: string
  readonly #cache: LRUCache<K, V>
  readonly #maxBytes: number | undefined
  readonly #sizeOf: ((value: V, key: K) => number) | undefined
  readonly #loads = new Map<K, Load<V>>()
  readonly #loadTimeout: number
  /** The longest TTL given, by default or to an entry: how far the TTL clock leaps on a step back. */
  #longestTtl: number
  // Event details made once per cache, so that the hit path builds none; a publish (only when
  // someone subscribes) still allocates the event object around them.
  readonly #details: { readonly cache: string }
  #hits = 0
  #misses = 0
  #evictions = 0
  #refused = 0
  // Bumped on every store, so the leak guard can skip a cache that gained nothing since it last
  // read it clean (removals cannot leave request data behind).
  #writes = 0

  constructor(options: BoundedLruOptions<K, V>) {
    const resolved = resolveOptions(options)
    this.name = resolved.name
    this.#maxBytes = resolved.maxBytes
    this.#sizeOf = resolved.sizeOf
    this.#loadTimeout = resolved.loadTimeout
    this.#longestTtl = resolved.ttl ?? 0
    this.#details = Object.freeze({ cache: resolved.name })
    this.#cache = new LRUCache<K, V>({
      max: resolved.max ?? 0,
      ...(resolved.maxBytes === undefined ? {} : { maxSize: resolved.maxBytes }),
      ...(resolved.ttl === undefined ? {} : { ttl: resolved.ttl }),
      // TTLs are judged by the injected wall clock at every read: lru-cache's default caches a
      // performance.now() reading behind a timer, and a timer does not run while Lambda has the
      // process frozen. A step back of that clock expires the TTLs running (see ttlClock).
      perf: ttlClock(resolved.clock, () => this.#longestTtl),
      ttlResolution: 0,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') {
          this.#evictions++
          if (evictChannel.active) evictChannel.publish(this.#details)
        }
      },
    } as LRUCache.Options<K, V, unknown>)
    // Held in a variable: `requestKeyed` is new in core's RegisterRootOptions, and an older core
    // that does not know it ignores it rather than failing the build.
    const rootOptions: RegisterRootOptions<BoundedLru<K, V>> & { requestKeyed?: boolean } = {
      revision: (cache) => cache.#writes,
      ...(resolved.requestKeyed ? { requestKeyed: true } : {}),
    }
    registerRoot(`lru:${this.name}`, this, (cache) => cache.entries(), rootOptions)
  }

  /** The value, or undefined when absent or past its TTL (by the clock, now). Counts a hit or a miss. */
  get(key: K): V | undefined {
    // The hit path stays small enough for the JIT to inline it, with lru-cache's own get, into
    // the caller: the miss and the events live out of line.
    const value = this.#cache.get(key)
    if (value === undefined) return this.#missed()
    this.#hits++
    if (hitChannel.active) hitChannel.publish(this.#details)
    return value
  }

  /**
   * Stores a value. Returns false, and keeps nothing for the key, when the entry alone is larger
   * than `maxBytes`: it would otherwise flush the whole cache and still not fit. A `getOrLoad` in
   * flight for the key will not store its result over this value.
   */
  set(key: K, value: V, options?: SetOptions): boolean {
    this.#writes++
    // A load in flight read its value before this one was set: storing it later would bring back
    // an older value. Tested by size first, so the usual set (no load running) pays no Map lookup.
    if (this.#loads.size !== 0) this.#loads.delete(key)
    if (options === undefined && this.#maxBytes === undefined) {
      this.#cache.set(key, value)
      return true
    }
    return this.#setMeasured(key, value, options)
  }

  /** Whether a live entry exists; does not count as a hit or change the LRU order. */
  has(key: K): boolean {
    return this.#cache.has(key)
  }

  /** Removes an entry; a load in flight for the key will not store its result. */
  delete(key: K): boolean {
    this.#loads.delete(key)
    return this.#cache.delete(key)
  }

  /** Removes every entry; loads in flight will not store their results. */
  clear(): void {
    this.#loads.clear()
    this.#cache.clear()
  }

  /**
   * The cached value, or the loader's, stored for next time. Concurrent calls for a missing key
   * share one load; a rejected load is not cached (the next call loads again). A load runs under a
   * time limit (`loadTimeout`, or what is left of the invocation less 100 ms when that is shorter):
   * past it, its callers get `LruLoadTimeoutError`, the key is free for the next call, the loader's
   * `signal` is aborted, and its late result is dropped.
   */
  getOrLoad(key: K, loader: (key: K, signal: AbortSignal) => V | Promise<V>): Promise<V> {
    const cached = this.get(key)
    if (cached !== undefined) return Promise.resolve(cached)
    const inFlight = this.#loads.get(key)
    if (inFlight !== undefined) {
      // A caller with less time left than the load (Managed Instances) gives up alone.
      return joinWithin(inFlight.promise, inFlight.deadline, LOAD_MARGIN_MS, (ms) => this.#timedOut(ms, true))
    }
    const ms = timeBudget(this.#loadTimeout, LOAD_MARGIN_MS)
    const promise: Promise<V> = withTimeout(
      // The loader runs in a microtask, so a synchronous throw becomes this load's rejection too.
      (signal) => Promise.resolve(key).then((k) => loader(k, signal)),
      ms,
      () => this.#timedOut(ms, false),
    ).then(
      (value) => {
        // A set(), delete() or clear() since the load started means its result may be outdated.
        const current = this.#loads.get(key) === load
        if (current) this.#loads.delete(key)
        if (value === undefined || value === null) {
          throw new WarmstartError(
            'ERR_LRU_EMPTY_VALUE',
            `boundedLru "${this.name}": the loader returned ${value}; return a value, or throw for "not found"`,
          )
        }
        if (current) this.set(key, value)
        return value
      },
      (error: unknown) => {
        if (this.#loads.get(key) === load) this.#loads.delete(key)
        throw error
      },
    )
    const load: Load<V> = { promise, deadline: Date.now() + ms }
    this.#loads.set(key, load)
    return promise
  }

  #timedOut(ms: number, joined: boolean): LruLoadTimeoutError {
    if (timeoutChannel.active) timeoutChannel.publish({ cache: this.name, ms })
    return new LruLoadTimeoutError(this.name, ms, joined)
  }

  stats(): LruStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      refused: this.#refused,
      entries: this.#cache.size,
      bytes: this.#maxBytes === undefined ? this.#sumOfSizes() : this.#cache.calculatedSize,
    }
  }

  /** Live entries, most recently used first (the leak guard reads the cache through this). */
  *entries(): IterableIterator<[K, V]> {
    yield* this.#cache.entries()
  }

  get size(): number {
    return this.#cache.size
  }

  #missed(): undefined {
    this.#misses++
    if (missChannel.active) missChannel.publish(this.#details)
    return undefined
  }

  /** `set` with a per-entry TTL, or with a byte budget that the entry's size is checked against. */
  #setMeasured(key: K, value: V, options: SetOptions | undefined): boolean {
    const ttl = options?.ttl === undefined ? undefined : parseDuration(options.ttl, 'boundedLru.set', 'ttl')
    if (ttl !== undefined && ttl > this.#longestTtl) this.#longestTtl = ttl
    const maxBytes = this.#maxBytes
    if (maxBytes === undefined) {
      this.#cache.set(key, value, ttl === undefined ? undefined : { ttl })
      return true
    }
    const size = this.#measure(value, key)
    if (size > maxBytes) {
      this.#cache.delete(key)
      this.#refused++
      if (refusedChannel.active) refusedChannel.publish({ cache: this.name, size, maxBytes })
      return false
    }
    this.#cache.set(key, value, ttl === undefined ? { size } : { size, ttl })
    return true
  }

  #sumOfSizes(): number {
    let bytes = 0
    for (const [key, value] of this.#cache.entries()) bytes += this.#measure(value, key)
    return bytes
  }

  #measure(value: V, key: K): number {
    const sizeOf = this.#sizeOf
    // The default counts what the cache itself holds for the entry too: for entries of tens of
    // bytes it is most of their memory. A sizeOf is the caller's own count (it may count units).
    const size =
      sizeOf === undefined
        ? estimateSize(value) + estimateSize(key) + ENTRY_OVERHEAD_BYTES
        : sizeOf(value, key)
    if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) {
      throw new WarmstartError(
        'ERR_LRU_INVALID_SIZE',
        `boundedLru "${this.name}": sizeOf must return a finite number of bytes >= 0 (got ${typeof size === 'number' ? size : typeof size})`,
      )
    }
    // lru-cache counts whole bytes, at least one per entry.
    return Math.max(1, Math.ceil(size))
  }
}

/** An LRU bounded by entries and/or bytes, with TTLs judged by the wall clock at each read. */
export function boundedLru<K extends {}, V extends {}>(options: BoundedLruOptions<K, V>): BoundedLru<K, V> {
  return new BoundedLru(options)
}
