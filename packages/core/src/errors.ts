/**
 * The base class of every error warmstart throws. `code` is stable across releases, so callers
 * branch on it rather than on the message. Messages name what failed (a parameter name, an
 * option) and never carry a secret value.
 */
export class WarmstartError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'WarmstartError'
    this.code = code
  }
}

/** Thrown when an options object is rejected at construction time. */
export function invalidOption(component: string, option: string, problem: string): WarmstartError {
  return new WarmstartError('ERR_INVALID_OPTION', `${component}: option "${option}" ${problem}`)
}

/**
 * A short description of a value for an error message: its type, and the value itself only when
 * it is a number, a boolean or a short string, so that a misplaced secret is never echoed.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'string')
    return value.length <= 16 ? JSON.stringify(value) : `a string of ${value.length} characters`
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : typeof value
}
