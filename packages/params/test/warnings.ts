/** A logger that keeps the warnings it is given, for tests that check what a failed refresh reports. */
export function warnings() {
  const lines: { message: string; details?: Record<string, unknown> }[] = []
  return {
    lines,
    logger: {
      warn: (message: string, details?: Record<string, unknown>) => lines.push({ message, details }),
      error() {},
    },
  }
}
