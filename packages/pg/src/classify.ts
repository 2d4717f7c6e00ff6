/** Reading pg's and Node's errors: which ones mean the connection is gone, or the login was refused. */

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

/** Errors no retry can fix: a missing database, a config pg rejects before it connects. */
export function isPermanentConnectFailure(error: unknown): boolean {
  const { code } = fields(error)
  return code === '3D000' || error instanceof TypeError
}

/** A short label for events and logs: the SQLSTATE or errno, else the message. Never a secret: pg puts none there. */
export function describeError(error: unknown): string {
  const { code, message } = fields(error)
  return code !== '' ? `${code} ${message}`.trim() : message
}
