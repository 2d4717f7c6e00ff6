import type { LambdaContextLike } from '@warmstart/core'
import { remainingTime } from '@warmstart/core/internal'

/** `performance.now()` by which the work must be done (the invocation's remaining time less the margin), if known. */
export type Deadline = number | undefined

/**
 * When work on the database must stop, read from the invocation's remaining time at the moment it
 * is asked (not when the invocation began: a warm one never needs it), less `margin`, so that the
 * handler still has time to answer with the error. Without the context (a query outside
 * pgMiddleware), the remaining time of the invocation warmstart tracks, if any.
 */
export function deadlineOf(context: LambdaContextLike | undefined, margin: number): Deadline {
  const remaining = context === undefined ? remainingTime() : context.getRemainingTimeInMillis?.()
  if (remaining === undefined || !Number.isFinite(remaining)) return undefined
  return performance.now() + remaining - margin
}
