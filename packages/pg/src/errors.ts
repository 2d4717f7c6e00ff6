import { WarmstartError } from '@warmstart/core'

/**
 * Why a connection could not be opened, named for what happened: the server refused more
 * connections (53300), was starting up or shutting down (57P03), could not be reached (refused,
 * reset, timed out, 57P01/57P02, class 08), refused the login, or the config itself is unusable
 * (an unparsable URL, a missing password, a missing database): that one is never retried. `deadline`
 * when there was no time left for a first attempt; `ended` when `db.end()` stopped it.
 */
export type ConnectFailure =
  | 'auth'
  | 'config'
  | 'unreachable'
  | 'too-many-connections'
  | 'starting-up'
  /** The invocation had no time left for even one attempt. */
  | 'deadline'
  /** `db.end()` was called while the connect was in flight, or while the query waited for a connection. */
  | 'ended'

/**
 * A connection could not be opened: after `attempts` tries, retried until the invocation's
 * deadline (or, outside an invocation, until connectTimeout). `cause` is the last error (pg's own,
 * or the config provider's). The message names the host, port, database and user, never the password.
 */
export class ConnectError extends WarmstartError {
  readonly attempts: number
  readonly reason: ConnectFailure
  /** True when it gave up because the time ran out (the last attempt's failure could have passed). */
  readonly outOfTime: boolean

  constructor(
    message: string,
    details: { attempts: number; reason: ConnectFailure; cause: unknown; outOfTime?: boolean },
  ) {
    super('ERR_PG_CONNECT', message, { cause: details.cause })
    this.name = 'ConnectError'
    this.attempts = details.attempts
    this.reason = details.reason
    this.outOfTime = details.outOfTime ?? false
  }
}

/**
 * `db.end()` was called while a connect was in flight (its socket, if it had one, is closed) or
 * while a query waited for a connection: what end() ends is not reopened behind its back.
 */
export function endedError(name: string, attempts: number): ConnectError {
  return new ConnectError(
    `pgConnection "${name}": ended by db.end() before this query got a connection; no connection was left open`,
    { attempts, reason: 'ended', cause: undefined },
  )
}

/**
 * What became of the connection of a statement that ran past its deadline: `cancelled` (the
 * server confirmed the cancel with ReadyForQuery; the connection is idle and kept) or `discarded`
 * (no confirmation in time; the socket was closed, and the server ends the session once it finds
 * that, when the statement ends at the latest).
 */
export type QueryTimeoutOutcome = 'cancelled' | 'discarded'

/**
 * A statement was still running when the invocation's deadline (remaining time minus
 * `deadlineMargin`) came. It was cancelled on the server. The message names the connection and
 * the time allowed, never the statement or its values.
 */
export class QueryTimeoutError extends WarmstartError {
  readonly connection: string
  readonly timeoutMs: number
  readonly outcome: QueryTimeoutOutcome

  constructor(details: { connection: string; timeoutMs: number; outcome: QueryTimeoutOutcome }) {
    const after =
      details.outcome === 'cancelled'
        ? 'it was cancelled on the server and the connection is idle again'
        : 'the server did not confirm the cancel in time, so the connection was closed'
    super(
      'ERR_PG_QUERY_TIMEOUT',
      `pgConnection "${details.connection}": a statement was still running at the invocation's deadline (${details.timeoutMs} ms allowed); ${after}`,
    )
    this.name = 'QueryTimeoutError'
    this.connection = details.connection
    this.timeoutMs = details.timeoutMs
    this.outcome = details.outcome
  }
}

/** Thrown by `db.client()` under Lambda Managed Instances outside an invocation started by pgMiddleware. */
export function noInvocationError(name: string): WarmstartError {
  return new WarmstartError(
    'ERR_PG_NO_INVOCATION',
    `pgConnection "${name}": db.client() under Lambda Managed Instances needs pgMiddleware, which gives each invocation its own connection and returns it when the invocation ends`,
  )
}

/** Replaces every occurrence of the password in a message: our last line of defence. */
export function redact(message: string, password: string | undefined): string {
  if (password === undefined || password.length === 0) return message
  return message.split(password).join('***')
}
