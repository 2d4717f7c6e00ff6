/** Reading pg's and Node's errors: which ones mean the connection is gone, or the login was refused. */
import type { ConnectFailure } from './errors.js'

interface ErrorLike {
  code?: unknown
  message?: unknown
}

function fields(error: unknown): { code: string; message: string } {
  if (typeof error !== 'object' || error === null) return { code: '', message: '' }
  const { code, message } = error as ErrorLike
  return { code: typeof code === 'string' ? code : '', message: typeof message === 'string' ? message : '' }
}

// admin_shutdown, crash_shutdown, cannot_connect_now, idle_session_timeout,
// idle_in_transaction_session_timeout: the server ends the session after sending them.
const SESSION_ENDED = new Set(['57P01', '57P02', '57P03', '57P05', '25P03'])
const SOCKET_GONE = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])
const LOST_MESSAGES = ['Connection terminated', 'not queryable', 'timeout expired']

/** True when the error means this connection can no longer be used (class 08, 57P0x, a dead socket). */
export function isConnectionLost(error: unknown): boolean {
  const { code, message } = fields(error)
  if (SESSION_ENDED.has(code) || code.startsWith('08') || SOCKET_GONE.has(code)) return true
  return LOST_MESSAGES.some((text) => message.includes(text))
}

/** True when the server refused the login: 28P01 invalid_password, 28000 (RDS Proxy during rotation). */
export function isAuthFailure(error: unknown): boolean {
  const { code } = fields(error)
  return code === '28P01' || code === '28000'
}

/** What a failed connect attempt says: why, and whether another attempt can succeed. */
export interface ConnectAttemptFailure {
  reason: ConnectFailure
  retry: boolean
}

/**
 * Classifies a failed connect. Retried: refused, reset, timed out, 53300 (too many connections),
 * 57P03 (starting up), 57P01/57P02 and class 08. Not retried: a refused login (auth; rotation is
 * handled apart), and what no retry can mend (config): pg's TypeError for a config it cannot read
 * (an unparsable URL), its SASL errors for a missing password, a missing database (3D000), and any
 * other error the server sent at login.
 */
export function classifyConnectFailure(error: unknown): ConnectAttemptFailure {
  const { code } = fields(error)
  if (code === '53300') return { reason: 'too-many-connections', retry: true }
  if (code === '57P03') return { reason: 'starting-up', retry: true }
  if (isAuthFailure(error)) return { reason: 'auth', retry: false }
  if (error instanceof TypeError) return { reason: 'config', retry: false }
  if (isConnectionLost(error)) return { reason: 'unreachable', retry: true }
  return { reason: 'config', retry: false }
}

/** A short label for events and logs: the SQLSTATE or errno, else the message. Never a secret: pg puts none there. */
export function describeError(error: unknown): string {
  const { code, message } = fields(error)
  return code !== '' ? `${code} ${message}`.trim() : message
}
