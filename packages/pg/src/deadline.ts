import type { LambdaContextLike } from '@warmstart/core'

/** `performance.now()` by which the work must be done (the invocation's remaining time), if known. */
export type Deadline = number | undefined

/**
 * When a connect must give up, read from the invocation's remaining time at the moment a connection
 * is needed (not when the invocation began: a warm one never needs it). Room is left for the handler
 * itself: a connect never eats the whole remaining time.
 */
export function deadlineOf(context: LambdaContextLike | undefined): Deadline {
  const remaining = context?.getRemainingTimeInMillis?.()
  if (remaining === undefined || !Number.isFinite(remaining)) return undefined
  return performance.now() + remaining - Math.min(1_000, remaining / 10)
}
