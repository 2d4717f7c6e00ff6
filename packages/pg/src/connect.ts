import type { ClientConfig } from 'pg'
import { nextDelay } from './backoff.js'
import { describeError, isAuthFailure, isPermanentConnectFailure } from './classify.js'
import type { Deadline } from './deadline.js'
import { ConnectError, type ConnectFailure, redact } from './errors.js'
import { report } from './events.js'
import { LiveConnection } from './live-connection.js'
import type { ResolvedOptions } from './options.js'

/** A plain timer: importing node:timers/promises for it would add about 1.5 ms to every import of this package. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

let pgModule: Promise<typeof import('pg')> | undefined

/**
 * pg is loaded at the first connect, not at import: loading it takes about 60 ms, which a cold
 * start whose first invocation never reaches the database should not pay.
 */
function loadPg(): Promise<typeof import('pg')> {
  pgModule ??= import('pg')
  return pgModule
}

async function loadConfig(options: ResolvedOptions, refresh: boolean): Promise<ClientConfig> {
  const source = typeof options.config === 'function' ? await options.config({ refresh }) : options.config
  return typeof source === 'string' ? { connectionString: source } : source
}

function ignoreUntilWatched(): void {
  // pg emits 'error' on a client whose connect failed; without a listener that crashes the process.
}

/**
 * Opens one connection: retries with capped, decorrelated-jitter backoff, each attempt bounded by
 * connectTimeout and all of them by the deadline. A refused login (28P01, 28000) with a config
 * provider asks the provider once for fresh credentials and tries again at once.
 */
export async function openConnection(options: ResolvedOptions, deadline: Deadline): Promise<LiveConnection> {
  const started = performance.now()
  let attempts = 0
  let refresh = false
  let rotated = false
  let delay = options.baseDelay
  let lastError: unknown
  let target = 'the server'
  let password: string | undefined

  const fail = (reason: ConnectFailure): ConnectError => {
    const cause = lastError === undefined ? '' : `: ${redact(describeError(lastError), password)}`
    const why =
      reason === 'deadline' ? 'before the invocation ran out of time' : `after ${attempts} attempt(s)`
    return new ConnectError(`pgConnection "${options.name}": could not connect to ${target} ${why}${cause}`, {
      attempts,
      reason,
      cause: lastError,
    })
  }

  for (;;) {
    const remaining = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - performance.now()
    const timeout = Math.floor(Math.min(options.connectTimeout, remaining))
    if (timeout <= 0) throw fail('deadline')
    attempts += 1
    let config: ClientConfig
    try {
      config = await loadConfig(options, refresh)
    } catch (error) {
      lastError = error
      throw fail('config')
    }
    refresh = false
    const pg = (await loadPg()).default
    const client = new pg.Client({ ...config, connectionTimeoutMillis: timeout })
    client.on('error', ignoreUntilWatched)
    password = typeof client.password === 'string' ? client.password : undefined
    target = `${client.host}:${client.port} (database "${client.database}", user "${client.user}")`
    try {
      await client.connect()
      const live = new LiveConnection(client, options)
      client.off('error', ignoreUntilWatched)
      report(options.logger, 'pg.connect', {
        name: options.name,
        attempts,
        durationMs: Math.round(performance.now() - started),
      })
      return live
    } catch (error) {
      lastError = error
      client.connection.stream.destroy()
      if (isAuthFailure(error)) {
        if (typeof options.config !== 'function' || rotated) throw fail('auth')
        rotated = true
        refresh = true
        report(options.logger, 'pg.rotate', { name: options.name, code: (error as { code: string }).code })
        continue
      }
      if (isPermanentConnectFailure(error)) throw fail('config')
      if (attempts >= options.attempts) throw fail('unreachable')
      delay = nextDelay(delay, options.baseDelay, options.maxDelay)
      if (deadline !== undefined && performance.now() + delay >= deadline) throw fail('deadline')
      options.logger?.warn('pg.connect-retry', { name: options.name, attempts, error: describeError(error) })
      await sleep(delay)
    }
  }
}
