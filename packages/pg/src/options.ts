import { type Clock, type Duration, type Logger, systemClock } from '@warmstart/core'
import {
  checkOptions,
  describeValue,
  durationOption,
  invalidOption,
  loggerOption,
  positiveInteger,
  timeLimitOption,
} from '@warmstart/core/internal'
import type { ClientConfig } from 'pg'
import { checkClientConfig } from './client-config.js'

/** What the config provider is told: `refresh` is true once after the server refused the password. */
export interface ConfigAttempt {
  readonly refresh: boolean
}

/**
 * A pg `ClientConfig` (or connection string), or a function that returns one. A function is called
 * for every new connection (an IAM token is needed only at connect), and again with
 * `{ refresh: true }` when the login failed with 28P01/28000, so that it can fetch rotated
 * credentials (`secrets.refresh(id)`) instead of its cached ones.
 */
export type PgConfigSource =
  | string
  | ClientConfig
  | ((attempt: ConfigAttempt) => Promise<string | ClientConfig> | string | ClientConfig)

/**
 * How a connect is retried: for every cause that can pass (refused, reset, timed out, 53300,
 * 57P01-57P03, class 08), with decorrelated-jitter sleeps between the two bounds, until the
 * invocation's deadline (outside an invocation: until connectTimeout has passed).
 */
export interface PgRetryOptions {
  /** The smallest sleep between attempts. Default 50 ms. */
  baseDelay?: Duration
  /** The largest sleep between attempts. Default 2 s. */
  maxDelay?: Duration
}

export interface PgConnectionOptions {
  config: PgConfigSource
  /** A connection idle for longer than this (a freeze happened) is checked with one round trip before reuse. Default '5s'. */
  validateAfterIdle?: Duration
  /** How long that check (and a rollback) may take before the socket is destroyed. Default '2s'. */
  validateTimeout?: Duration
  /** How long one connect attempt (TCP, TLS, login) may take; outside an invocation, all attempts together. Default '5s'. */
  connectTimeout?: Duration
  /**
   * Statements and connects stop this long before the invocation's end
   * (`context.getRemainingTimeInMillis()`), so that the handler can still answer: a statement
   * running at that point is cancelled on the server (QueryTimeoutError), a connect gives up
   * (ConnectError). Half of it (at most validateTimeout) is the wait for the cancel's confirmation.
   * Default '500ms'.
   */
  deadlineMargin?: Duration
  /**
   * A connection nobody has used for this long is closed, except the last one: under Managed
   * Instances the pool shrinks back after a burst. Default '1m'.
   */
  idleTimeout?: Duration
  /** A connection older than this is replaced when an invocation takes it. Default: never. */
  maxLifetime?: Duration
  retry?: PgRetryOptions
  /** Run DISCARD ALL after every invocation, so no SET, prepared statement or temp table survives it. Default false. */
  resetSession?: boolean
  /** End the connections when Lambda sends SIGTERM (onShutdown from @warmstart/lifecycle). Default false. */
  closeOnShutdown?: boolean
  /**
   * How many connections this environment may hold. Default: AWS_LAMBDA_MAX_CONCURRENCY under
   * Lambda Managed Instances (one connection per invocation in flight), else 1.
   */
  maxConnections?: number
  clock?: Clock
  logger?: Logger
  /** Names this connection in events, logs and errors. Default 'pg'. */
  name?: string
}

export interface ResolvedOptions {
  readonly config: PgConfigSource
  readonly validateAfterIdle: number
  readonly validateTimeout: number
  readonly connectTimeout: number
  readonly maxLifetime: number
  readonly deadlineMargin: number
  readonly cancelWait: number
  readonly idleTimeout: number
  readonly baseDelay: number
  readonly maxDelay: number
  readonly resetSession: boolean
  readonly closeOnShutdown: boolean
  readonly maxConnections: number
  readonly clock: Clock
  readonly logger: Logger | undefined
  readonly name: string
}

const COMPONENT = 'pgConnection'

const OPTIONS = [
  'config',
  'validateAfterIdle',
  'validateTimeout',
  'connectTimeout',
  'deadlineMargin',
  'idleTimeout',
  'maxLifetime',
  'retry',
  'resetSession',
  'closeOnShutdown',
  'maxConnections',
  'clock',
  'logger',
  'name',
] as const satisfies readonly (keyof PgConnectionOptions)[]
const RETRY_OPTIONS = ['baseDelay', 'maxDelay'] as const satisfies readonly (keyof PgRetryOptions)[]

function flag(value: unknown, option: string): boolean {
  if (value === undefined) return false
  if (typeof value === 'boolean') return value
  throw invalidOption(COMPONENT, option, `must be true or false (got ${describeValue(value)})`)
}

function duration(value: Duration | undefined, option: string, fallback: number): number {
  return durationOption(COMPONENT, option, value, fallback)
}

/**
 * A limit whose 0 means the opposite to pg.Pool (there, no limit): a user moving from it who writes
 * 0 would replace or close connections at every turn.
 */
function notZero(ms: number, option: string, hint: string): number {
  if (ms === 0) throw invalidOption(COMPONENT, option, `must be more than 0 ms; ${hint}`)
  return ms
}

function defaultMaxConnections(): number {
  const concurrency = Number(process.env.AWS_LAMBDA_MAX_CONCURRENCY)
  return Number.isInteger(concurrency) && concurrency > 1 ? concurrency : 1
}

export function resolveOptions(options: PgConnectionOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption(COMPONENT, 'options', `must be an object (got ${describeValue(options)})`)
  }
  checkOptions(COMPONENT, options, OPTIONS)
  checkOptions(COMPONENT, options.retry, RETRY_OPTIONS, 'retry')
  const { config } = options
  if (
    !(
      typeof config === 'string' ||
      typeof config === 'function' ||
      (typeof config === 'object' && config !== null)
    )
  ) {
    // describeValue never echoes a long string, so a misplaced password stays out of the message.
    throw invalidOption(
      COMPONENT,
      'config',
      `must be a pg ClientConfig, a connection string or a function returning one (got ${describeValue(config)})`,
    )
  }
  if (typeof config === 'object') checkClientConfig(COMPONENT, config, 'config')
  const retry = options.retry ?? {}
  const baseDelay = duration(retry.baseDelay, 'retry.baseDelay', 50)
  const maxDelay = duration(retry.maxDelay, 'retry.maxDelay', 2_000)
  if (maxDelay < baseDelay) throw invalidOption(COMPONENT, 'retry.maxDelay', 'must be >= retry.baseDelay')
  const validateTimeout = timeLimitOption(COMPONENT, 'validateTimeout', options.validateTimeout, 2_000)
  const connectTimeout = timeLimitOption(COMPONENT, 'connectTimeout', options.connectTimeout, 5_000)
  const deadlineMargin = duration(options.deadlineMargin, 'deadlineMargin', 500)
  const { clock = systemClock } = options
  if (typeof clock?.now !== 'function') {
    throw invalidOption(COMPONENT, 'clock', 'must have a now() method returning wall-clock milliseconds')
  }
  const logger = loggerOption(COMPONENT, options.logger)
  const name = options.name ?? 'pg'
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidOption(COMPONENT, 'name', `must be a non-empty string (got ${describeValue(name)})`)
  }
  return {
    config,
    validateAfterIdle: duration(options.validateAfterIdle, 'validateAfterIdle', 5_000),
    validateTimeout,
    connectTimeout,
    maxLifetime: notZero(
      duration(options.maxLifetime, 'maxLifetime', Number.POSITIVE_INFINITY),
      'maxLifetime',
      'leave it out for no limit (to pg.Pool, 0 means none)',
    ),
    deadlineMargin,
    cancelWait: Math.max(1, Math.min(validateTimeout, deadlineMargin / 2)),
    idleTimeout: notZero(
      duration(options.idleTimeout, 'idleTimeout', 60_000),
      'idleTimeout',
      'to pg.Pool, 0 means never; here every spare connection would close at once',
    ),
    baseDelay,
    maxDelay,
    resetSession: flag(options.resetSession, 'resetSession'),
    closeOnShutdown: flag(options.closeOnShutdown, 'closeOnShutdown'),
    maxConnections: positiveInteger(
      COMPONENT,
      'maxConnections',
      options.maxConnections,
      defaultMaxConnections(),
    ),
    clock,
    logger,
    name,
  }
}
