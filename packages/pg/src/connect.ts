import { WarmstartError } from '@warmstart/core'
import { describeValue, loadOnce, logSafely, sleep, withTimeout } from '@warmstart/core/internal'
import type { Client, ClientConfig } from 'pg'
import { nextDelay } from './backoff.js'
import { classifyConnectFailure, describeError, isAuthFailure } from './classify.js'
import { checkClientConfig } from './client-config.js'
import type { Deadline } from './deadline.js'
import { ConnectError, type ConnectFailure, endedError, redact } from './errors.js'
import { report } from './events.js'
import { LiveConnection } from './live-connection.js'
import type { ResolvedOptions } from './options.js'

/** client.connect(), with its socket destroyed as soon as `signal` aborts: whatever the login had reached, nothing stays open. */
async function connectUnlessAborted(client: Client, signal: AbortSignal): Promise<void> {
  const stop = (): void => {
    client.connection.stream.destroy()
  }
  signal.addEventListener('abort', stop, { once: true })
  try {
    await client.connect()
  } finally {
    signal.removeEventListener('abort', stop)
  }
}

type PgModule = typeof import('pg')

/** What an esbuild (or other) ESM bundle of CommonJS pg says when it first runs without a `require`. */
export function bundleError(error: unknown): WarmstartError | undefined {
  const message = error instanceof Error ? error.message : ''
  if (!message.startsWith('Dynamic require of')) return undefined
  return new WarmstartError(
    'ERR_PG_ESM_BUNDLE',
    `pgConnection: pg (a CommonJS package) cannot load in this ESM bundle: ${message}. Give the bundle a require, e.g. esbuild --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);", or keep pg external`,
    { cause: error },
  )
}

/**
 * pg is loaded at the first connect, not at import: loading it takes about 60 ms, which a cold
 * start whose first invocation never reaches the database should not pay. A failed load is not
 * kept (loadOnce): the next connect tries again.
 */
const loadPg = loadOnce<PgModule>(() =>
  import('pg').catch((error: unknown) => {
    throw bundleError(error) ?? error
  }),
)

async function readConfig(options: ResolvedOptions, refresh: boolean): Promise<ClientConfig> {
  const source = typeof options.config === 'function' ? await options.config({ refresh }) : options.config
  if (typeof source === 'string') return { connectionString: source }
  // Anything else (a forgotten return) would leave pg to its defaults: localhost, the OS user, retried as unreachable.
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    throw new WarmstartError(
      'ERR_INVALID_OPTION',
      `pgConnection "${options.name}": the config provider returned ${describeValue(source)}, not a pg ClientConfig or a connection string`,
    )
  }
  if (source !== options.config) checkClientConfig(`pgConnection "${options.name}"`, source, 'config()')
  return source
}

/** The config provider did not settle in the time the connect had. */
class ConfigTimeoutError extends WarmstartError {
  constructor(name: string, ms: number) {
    super(
      'ERR_PG_CONFIG_TIMEOUT',
      `pgConnection "${name}": the config provider did not settle within ${ms} ms`,
    )
    this.name = 'ConfigTimeoutError'
  }
}

/**
 * The config, from the provider when there is one, within `ms`: a provider is user code (often a
 * secret fetched over the network) and one that never settles must not hold the invocation past
 * its deadline. Rejects as soon as `signal` aborts (db.end(): it does not wait for user code to
 * settle), and what the provider gives later is dropped, no socket made from it.
 */
function loadConfig(
  options: ResolvedOptions,
  refresh: boolean,
  ms: number,
  signal: AbortSignal,
): Promise<ClientConfig> {
  return withTimeout(
    () => readConfig(options, refresh),
    typeof options.config === 'function' ? ms : Number.POSITIVE_INFINITY,
    () => new ConfigTimeoutError(options.name, ms),
    signal,
  )
}

function ignoreUntilWatched(): void {
  // pg emits 'error' on a client whose connect failed; without a listener that crashes the process.
}

/** Tells openConnection to stop retrying: the pool has another way to serve the invocation, or was ended. */
export interface ConnectHooks {
  /** Called on 53300: true when the process already holds connections an invocation can wait for. */
  canWait(): boolean
  /**
   * Aborted by db.end(): the connect stops at once, wherever it is (config provider, login,
   * backoff), closes the socket it made, and fails as `ended`.
   */
  signal: AbortSignal
}

/**
 * Opens one connection: retried with capped, decorrelated-jitter backoff, each attempt bounded by
 * connectTimeout, for every cause that can pass, until the deadline (outside an invocation: until
 * connectTimeout has passed since the first attempt). A refused login (28P01, 28000) with a
 * config provider asks the provider once for fresh credentials and tries again at once. A config
 * error fails at once, and so does a connect that `hooks.signal` stops (db.end()).
 */
export async function openConnection(
  options: ResolvedOptions,
  deadline: Deadline,
  hooks: ConnectHooks,
): Promise<LiveConnection> {
  const started = performance.now()
  const until = deadline ?? started + options.connectTimeout
  let attempts = 0
  let refresh = false
  let rotated = false
  let delay = options.baseDelay
  let lastError: unknown
  let reason: ConnectFailure = 'deadline'
  let target = 'the server'
  let password: string | undefined

  const fail = (failure: ConnectFailure, outOfTime: boolean): ConnectError => {
    const cause = lastError === undefined ? '' : `: ${redact(describeError(lastError), password)}`
    const why = outOfTime
      ? `within the time it had (${attempts} attempt(s), ${Math.round(performance.now() - started)} ms)`
      : `(${failure}, attempt ${attempts})`
    return new ConnectError(`pgConnection "${options.name}": could not connect to ${target} ${why}${cause}`, {
      attempts,
      reason: failure,
      cause: lastError,
      outOfTime,
    })
  }

  const { signal } = hooks
  // A function, not a field read: the signal can abort during any await, which TypeScript's narrowing does not see.
  const stopped = (): boolean => signal.aborted
  const pg = (await loadPg()).default
  for (;;) {
    if (stopped()) throw endedError(options.name, attempts)
    const left = Math.floor(until - performance.now())
    if (left <= 0) throw fail(reason, true)
    attempts += 1
    let client: InstanceType<typeof pg.Client>
    try {
      const config = await loadConfig(options, refresh, left, signal)
      const timeout = Math.floor(Math.min(options.connectTimeout, until - performance.now()))
      // The provider took the time there was: nothing left for the connect itself.
      if (timeout <= 0) throw new ConfigTimeoutError(options.name, left)
      // pg parses a connection string here: a password holding '#', '?' or '/' unescaped throws a TypeError.
      client = new pg.Client({ ...config, connectionTimeoutMillis: timeout })
    } catch (error) {
      if (stopped()) throw endedError(options.name, attempts)
      lastError = error
      throw fail('config', error instanceof ConfigTimeoutError)
    }
    refresh = false
    client.on('error', ignoreUntilWatched)
    password = typeof client.password === 'string' ? client.password : undefined
    target = `${client.host}:${client.port} (database "${client.database}", user "${client.user}")`
    try {
      await connectUnlessAborted(client, signal)
      // Stopped in the turn the login completed: the socket is already being destroyed.
      if (stopped()) throw signal.reason
      const live = new LiveConnection(client, options)
      client.off('error', ignoreUntilWatched)
      report(options.logger, 'pg.connect', {
        name: options.name,
        attempts,
        durationMs: Math.round(performance.now() - started),
      })
      return live
    } catch (error) {
      client.connection.stream.destroy()
      if (stopped()) throw endedError(options.name, attempts)
      lastError = error
      if (isAuthFailure(error) && typeof options.config === 'function' && !rotated) {
        rotated = true
        refresh = true
        report(options.logger, 'pg.rotate', { name: options.name, code: (error as { code: string }).code })
        continue
      }
      const failure = classifyConnectFailure(error)
      reason = failure.reason
      if (!failure.retry) throw fail(reason, false)
      if (reason === 'too-many-connections' && hooks.canWait()) throw fail(reason, false)
      delay = nextDelay(delay, options.baseDelay, options.maxDelay)
      if (performance.now() + delay >= until) throw fail(reason, true)
      logSafely(options.logger, 'warn', 'pg.connect-retry', {
        name: options.name,
        attempts,
        error: describeError(error),
      })
      await sleep(delay, signal)
    }
  }
}
