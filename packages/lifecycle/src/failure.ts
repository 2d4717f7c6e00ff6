/**
 * What a report says about a failure: its name and code, never its message, which may carry the
 * data the failed work was handling. Total: a rejection is whatever the work threw, so a name
 * getter that throws or a Proxy whose traps do must not lose the report (or reject the work's
 * bookkeeping); a name or code that is not a string is not written out, it could be anything.
 */
export function describeFailure(error: unknown): { name: string; code?: string } {
  if (!isError(error)) return { name: typeof error }
  try {
    const name = typeof error.name === 'string' ? error.name : 'Error'
    const code = (error as { code?: unknown }).code
    return typeof code === 'string' ? { name, code } : { name }
  } catch {
    return { name: 'Error' }
  }
}

/** `instanceof Error`, false where asking throws (a Proxy whose getPrototypeOf trap does). */
function isError(value: unknown): value is Error {
  try {
    return value instanceof Error
  } catch {
    return false
  }
}
