/**
 * What a report says about a failure: its name and code, never its message, which may carry the
 * data the failed work was handling.
 */
export function describeFailure(error: unknown): { name: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return typeof code === 'string' ? { name: error.name, code } : { name: error.name }
  }
  return { name: typeof error }
}
