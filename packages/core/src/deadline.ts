import { currentInvocation } from './invocation.js'

/**
 * Milliseconds left in the invocation the caller runs in, or undefined outside an invocation (at
 * init, in a test between invocations) or when its context gave no deadline.
 */
export function remainingTime(): number | undefined {
  const deadline = currentInvocation()?.deadline
  return deadline === undefined ? undefined : Math.max(0, deadline - Date.now())
}

/**
 * How long a remote call may take: `cap`, shortened to what is left of the invocation less
 * `margin` (time kept back to report the failure and answer), never below 0. Outside an invocation
 * the cap alone applies.
 */
export function timeBudget(cap: number, margin = 0): number {
  const left = remainingTime()
  if (left === undefined) return cap
  return Math.max(0, Math.min(cap, left - margin))
}

/**
 * Runs `work` with a signal that aborts after `ms`, and rejects with `onTimeout()` then, whether or
 * not the work heeds the signal: a caller is never held past its budget by a dependency that
 * ignores cancellation. The timer is cleared as soon as the work settles, so nothing is left to
 * fire in a later invocation.
 */
export function withTimeout<T>(
  work: (signal: AbortSignal) => Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  const controller = new AbortController()
  if (ms === Number.POSITIVE_INFINITY) return work(controller.signal)
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = onTimeout()
      controller.abort(error)
      reject(error)
    }, ms)
    let running: Promise<T>
    try {
      running = work(controller.signal)
    } catch (error) {
      clearTimeout(timer)
      reject(error)
      return
    }
    Promise.resolve(running).then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

/**
 * What a caller waits on when it joins work another caller started (a load in flight, which ends
 * by `deadline`, a `Date.now()` time): the work itself, or, when the caller's own invocation ends
 * sooner, the work bounded by what is left of that invocation less `margin`, rejecting with
 * `onTimeout(ms)` then. The work is not cancelled: it goes on for the callers with more time, and
 * its own deadline still ends it. Returns `work` itself when the caller can wait for all of it, so
 * that a caller can tell the two apart.
 */
export function joinWithin<T>(
  work: Promise<T>,
  deadline: number,
  margin: number,
  onTimeout: (ms: number) => Error,
): Promise<T> {
  const left = deadline - Date.now()
  const ms = timeBudget(left, margin)
  if (ms >= left) return work
  return withTimeout(
    () => work,
    ms,
    () => onTimeout(ms),
  )
}
