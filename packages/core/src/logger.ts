/**
 * The logger shape components accept. Powertools' Logger, `console` and pino all fit it.
 * Components pass structured details as the second argument and never put secret values in either.
 */
export interface Logger {
  debug?(message: string, details?: Record<string, unknown>): void
  info?(message: string, details?: Record<string, unknown>): void
  warn(message: string, details?: Record<string, unknown>): void
  error(message: string, details?: Record<string, unknown>): void
}
