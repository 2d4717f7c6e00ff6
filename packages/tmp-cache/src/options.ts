import { tmpdir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import {
  type Clock,
  type Duration,
  type Logger,
  parseDuration,
  parseSize,
  type Size,
  systemClock,
} from '@warmstart/core'
import { checkOptions, invalidOption, loggerOption, timeLimitOption } from '@warmstart/core/internal'

export interface TmpCacheOptions {
  /** Names the cache in events, errors and the leak guard (`tmp:<name>`). Default `'default'`. */
  name?: string
  /** Absolute directory of the cache. Default `<os.tmpdir()>/warmstart-cache/<name>` (`/tmp/...` on Lambda). */
  dir?: string
  /**
   * Budget for the files on disk, headers included. Default `'256mb'` (Lambda's /tmp is 512 MB by
   * default). At most 10,240 MB, the most ephemeral storage Lambda gives a function.
   */
  maxBytes?: Size
  /** How long an entry is served after it was written. Default: no expiry. */
  ttl?: Duration
  /** Where TTLs read the time. Default: the system clock. */
  clock?: Clock
  /** Where corrupt files and cleanup problems are reported (warn). */
  logger?: Logger
  /**
   * Longest a `getOrLoad` loader may take, reading the stream it returns included, before its
   * callers get `ERR_TMP_CACHE_LOAD_TIMEOUT` and the key is free for the next load. Inside an
   * invocation, shortened to the time it has left less 100 ms. Default `'5m'`; at most `'15m'`,
   * the longest a Lambda invocation runs.
   */
  loadTimeout?: Duration
}

export interface ResolvedOptions {
  readonly name: string
  readonly dir: string
  readonly maxBytes: number
  readonly ttlMs: number | undefined
  readonly clock: Clock
  readonly logger: Logger | undefined
  readonly loadTimeout: number
}

const COMPONENT = 'tmpCache'
const NAME = /^[A-Za-z0-9._-]{1,64}$/
const OPTIONS = ['name', 'dir', 'maxBytes', 'ttl', 'clock', 'logger', 'loadTimeout'] as const
/** Lambda's largest /tmp (ephemeral storage): 10,240 MB. */
const LAMBDA_MAX_TMP = 10_240 * 1024 * 1024
/**
 * A loader downloads a file (often tens or hundreds of MB), so its default is longer than an
 * in-memory cache's; inside an invocation its remaining time is the bound that applies anyway.
 */
const DEFAULT_LOAD_TIMEOUT = 5 * 60_000

export function resolveOptions(options: TmpCacheOptions): ResolvedOptions {
  checkOptions(COMPONENT, options, OPTIONS)
  const name = options.name ?? 'default'
  if (typeof name !== 'string' || !NAME.test(name) || name === '.' || name === '..') {
    throw invalidOption(COMPONENT, 'name', 'must be 1 to 64 letters, digits, ".", "_" or "-"')
  }
  const dir = options.dir ?? join(tmpdir(), 'warmstart-cache', name)
  if (typeof dir !== 'string' || !isAbsolute(dir)) {
    throw invalidOption(COMPONENT, 'dir', 'must be an absolute path')
  }
  const maxBytes = parseSize(options.maxBytes ?? '256mb', COMPONENT, 'maxBytes')
  if (maxBytes === 0) throw invalidOption(COMPONENT, 'maxBytes', 'must be more than 0 bytes')
  if (maxBytes > LAMBDA_MAX_TMP) {
    throw invalidOption(
      COMPONENT,
      'maxBytes',
      `must be at most 10240mb, the largest /tmp Lambda gives a function (got ${maxBytes} bytes)`,
    )
  }
  const ttlMs = options.ttl === undefined ? undefined : parseDuration(options.ttl, COMPONENT, 'ttl')
  if (ttlMs === 0)
    throw invalidOption(COMPONENT, 'ttl', 'must be more than 0 ms (leave it out for no expiry)')
  const clock = options.clock ?? systemClock
  if (typeof clock?.now !== 'function') throw invalidOption(COMPONENT, 'clock', 'must have a now() method')
  const logger = loggerOption(COMPONENT, options.logger)
  const loadTimeout = timeLimitOption(COMPONENT, 'loadTimeout', options.loadTimeout, DEFAULT_LOAD_TIMEOUT)
  return { name, dir, maxBytes, ttlMs, clock, logger, loadTimeout }
}
