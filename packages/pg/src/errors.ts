import { WarmstartError } from '@warmstart/core'

/** Why a connection could not be opened. */
export type ConnectFailure = 'auth' | 'deadline' | 'unreachable' | 'config'

/**
 * A connection could not be opened: after `attempts` tries, within the connect timeout and the
 * invocation's remaining time. `cause` is the last error (pg's own, or the config provider's).
 * The message names the host, port, database and user, never the password.
 */
export class ConnectError extends WarmstartError {
  readonly attempts: number
  readonly reason: ConnectFailure

  constructor(message: string, details: { attempts: number; reason: ConnectFailure; cause: unknown }) {
    super('ERR_PG_CONNECT', message, { cause: details.cause })
    this.name = 'ConnectError'
    this.attempts = details.attempts
    this.reason = details.reason
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
