import type { Logger } from './logger.js'

/**
 * Calls a function a user handed us (an observer, an inspector, a hook) so that it can never throw
 * into warmstart's code: returns false when it threw. A returned promise that rejects is caught too.
 */
export function callSafely<A extends unknown[]>(
  fn: ((...args: A) => unknown) | undefined,
  ...args: A
): boolean {
  if (fn === undefined) return true
  try {
    const result = fn(...args)
    if (
      result !== null &&
      typeof result === 'object' &&
      typeof (result as { then?: unknown }).then === 'function'
    ) {
      ;(result as PromiseLike<unknown>).then(undefined, () => {})
    }
    return true
  } catch {
    return false
  }
}

type Level = 'debug' | 'info' | 'warn' | 'error'
const FALLBACK: Record<Level, readonly Level[]> = {
  error: ['error', 'warn', 'info'],
  warn: ['warn', 'error', 'info'],
  info: ['info', 'debug'],
  debug: ['debug'],
}

/**
 * Logs through a user's logger without trusting it: a missing method falls back to a neighbouring
 * level (a logger without `error` still hears about errors through `warn`), and a method that
 * throws is ignored. Without a logger nothing is written (the caller chose silence). A warning or
 * an error that the logger has no method for, or that its method threw on, goes to `console.error`,
 * so that a failure is never lost; debug and info lines are then dropped.
 */
export function logSafely(logger: Logger | undefined, level: Level, message: string, details?: object): void {
  if (logger === undefined) return
  for (const candidate of FALLBACK[level]) {
    const method = (logger as unknown as Record<string, unknown>)[candidate]
    if (typeof method !== 'function') continue
    try {
      method.call(logger, message, details)
      return
    } catch {
      break
    }
  }
  if (level === 'warn' || level === 'error') {
    try {
      if (details === undefined) console.error(message)
      else console.error(message, details)
    } catch {
      // Nowhere left to report to.
    }
  }
}
