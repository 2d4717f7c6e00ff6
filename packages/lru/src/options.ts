import { type Clock, type Duration, parseDuration, parseSize, type Size, systemClock } from '@warmstart/core'
import { checkOptions, describeValue, invalidOption, timeLimitOption } from '@warmstart/core/internal'

/** Bytes, a size string (`'8mb'`), or a share of the function's memory (`'10%'`). */
export type ByteBudget = Size | `${number}%`

export interface BoundedLruOptions<K, V> {
  /** Most entries kept. At least one of `max` and `maxBytes` is required. */
  max?: number
  /**
   * Most bytes kept, as estimated by `sizeOf`: bytes, `'8mb'`, or `'10%'` of the function's
   * memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`), which follows the memory setting of each deploy.
   */
  maxBytes?: ByteBudget
  /** Default time to live of an entry, judged by `clock` at each read. Default: none. */
  ttl?: Duration
  /**
   * The bytes of one entry, taken as given. Default: an estimate of the value and the key (see
   * `estimateSize`) plus `ENTRY_OVERHEAD_BYTES`, what the cache itself holds for each entry.
   */
  sizeOf?: (value: V, key: K) => number
  /** Names the cache in events, stats and the leak guard (`lru:<name>`). Default `'lru'`. */
  name?: string
  /** Where TTLs read the time (wall-clock ms). Default: core's system clock. */
  clock?: Clock
  /**
   * Longest a `getOrLoad` loader may run before its callers get `ERR_LRU_LOAD_TIMEOUT` and the key
   * is free for the next load. Inside an invocation, shortened to the time it has left less 100 ms.
   * Default `'30s'`; at most `'15m'`, the longest a Lambda invocation runs.
   */
  loadTimeout?: Duration
  /**
   * The keys come from requests on purpose (a cache of per-tenant configuration keyed by the
   * tenant id): the leak guard does not report the keys, and still reports request data in the
   * values. Default false.
   */
  requestKeyed?: boolean
}

export interface ResolvedOptions<K, V> {
  readonly name: string
  readonly max: number | undefined
  readonly maxBytes: number | undefined
  readonly ttl: number | undefined
  readonly sizeOf: ((value: V, key: K) => number) | undefined
  readonly clock: Clock
  readonly loadTimeout: number
  readonly requestKeyed: boolean
}

const OPTIONS = ['max', 'maxBytes', 'ttl', 'sizeOf', 'name', 'clock', 'loadTimeout', 'requestKeyed'] as const

const PERCENT = /^(\d+(?:\.\d+)?)\s*%$/
const MEMORY_VARIABLE = 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE'

function resolveMaxBytes(value: ByteBudget): number {
  const share = typeof value === 'string' ? PERCENT.exec(value.trim()) : null
  let bytes: number
  if (share) {
    const percent = Number(share[1])
    if (percent <= 0 || percent > 100)
      throw invalidOption('boundedLru', 'maxBytes', 'as a share must be within (0%, 100%]')
    const memory = process.env[MEMORY_VARIABLE]
    const megabytes = Number(memory)
    if (memory === undefined || memory.trim() === '' || !Number.isFinite(megabytes) || megabytes <= 0) {
      throw invalidOption(
        'boundedLru',
        'maxBytes',
        `is a share of the function's memory (${value}), which needs ${MEMORY_VARIABLE} in megabytes (got ${memory === undefined ? 'unset' : describeValue(memory)}); outside Lambda give a size such as '64mb'`,
      )
    }
    bytes = Math.floor((megabytes * 1024 * 1024 * percent) / 100)
  } else {
    bytes = parseSize(value, 'boundedLru', 'maxBytes')
  }
  if (bytes < 1) throw invalidOption('boundedLru', 'maxBytes', 'must be at least 1 byte')
  return bytes
}

/** Checks the options at construction and resolves sizes and durations. */
export function resolveOptions<K, V>(options: BoundedLruOptions<K, V>): ResolvedOptions<K, V> {
  if (options === null || typeof options !== 'object') {
    throw invalidOption('boundedLru', 'options', "must be an object with at least 'max' or 'maxBytes'")
  }
  checkOptions('boundedLru', options, OPTIONS)
  const { max, maxBytes, ttl, sizeOf, name = 'lru', clock = systemClock, requestKeyed = false } = options
  if (max === undefined && maxBytes === undefined) {
    throw invalidOption(
      'boundedLru',
      'max',
      "or 'maxBytes' is required: an unbounded cache grows until the function runs out of memory",
    )
  }
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1)) {
    throw invalidOption(
      'boundedLru',
      'max',
      `must be a whole number of entries >= 1 (got ${describeValue(max)})`,
    )
  }
  if (sizeOf !== undefined && typeof sizeOf !== 'function') {
    throw invalidOption('boundedLru', 'sizeOf', 'must be a function (value, key) => bytes')
  }
  if (typeof name !== 'string' || name === '')
    throw invalidOption('boundedLru', 'name', 'must be a non-empty string')
  if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function') {
    throw invalidOption('boundedLru', 'clock', 'must have a now() method returning wall-clock milliseconds')
  }
  const ttlMs = ttl === undefined ? undefined : parseDuration(ttl, 'boundedLru', 'ttl')
  if (ttlMs === 0)
    throw invalidOption('boundedLru', 'ttl', 'must be longer than 0 ms; leave it out for no TTL')
  const loadTimeout = timeLimitOption('boundedLru', 'loadTimeout', options.loadTimeout, 30_000)
  if (typeof requestKeyed !== 'boolean')
    throw invalidOption(
      'boundedLru',
      'requestKeyed',
      `must be true or false (got ${describeValue(requestKeyed)})`,
    )
  return {
    name,
    max,
    maxBytes: maxBytes === undefined ? undefined : resolveMaxBytes(maxBytes),
    ttl: ttlMs,
    sizeOf,
    clock,
    loadTimeout,
    requestKeyed,
  }
}
