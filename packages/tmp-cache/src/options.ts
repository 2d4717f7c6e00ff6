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
import { checkOptions, invalidOption } from '@warmstart/core/internal'

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
}

export interface ResolvedOptions {
  readonly name: string
  readonly dir: string
  readonly maxBytes: number
  readonly ttlMs: number | undefined
  readonly clock: Clock
  readonly logger: Logger | undefined
}

const COMPONENT = 'tmpCache'
const NAME = /^[A-Za-z0-9._-]{1,64}$/
const OPTIONS = ['name', 'dir', 'maxBytes', 'ttl', 'clock', 'logger'] as const
/** Lambda's largest /tmp (ephemeral storage): 10,240 MB. */
const LAMBDA_MAX_TMP = 10_240 * 1024 * 1024

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
  const logger = options.logger
  if (logger !== undefined && typeof logger?.warn !== 'function') {
    throw invalidOption(COMPONENT, 'logger', 'must have warn() and error() methods (such as console)')
  }
  return { name, dir, maxBytes, ttlMs, clock, logger }
}
