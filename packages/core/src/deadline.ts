import { currentInvocation } from './invocation.js'

/** The longest a Lambda invocation runs (its largest timeout, 15 minutes): no invocation outlasts it. */
export const LONGEST_INVOCATION_MS = 15 * 60_000

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
 * ignores cancellation. An `outer` signal (db.end(), a caller's own abort) stops it the same way,
 * rejecting with its reason. The timer is cleared as soon as the work settles or either signal
 * aborts, so nothing is left to fire in a later invocation.
 */
export function withTimeout<T>(
  work: (signal: AbortSignal) => Promise<T>,
  ms: number,
  onTimeout: () => Error,
  outer?: AbortSignal,
): Promise<T> {
  const controller = new AbortController()
  if (outer === undefined && ms === Number.POSITIVE_INFINITY) return work(controller.signal)
  if (outer?.aborted) {
    controller.abort(outer.reason)
    return Promise.reject(outer.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const stop = (reason: unknown): void => {
      finish()
      controller.abort(reason)
      reject(reason)
    }
    const onAbort = (): void => stop(outer?.reason)
    const timer = ms === Number.POSITIVE_INFINITY ? undefined : setTimeout(() => stop(onTimeout()), ms)
    const finish = (): void => {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onAbort)
    }
    outer?.addEventListener('abort', onAbort, { once: true })
    let running: Promise<T>
    try {
      running = work(controller.signal)
    } catch (error) {
      finish()
      reject(error)
      return
    }
    Promise.resolve(running).then(
      (value) => {
        finish()
        resolve(value)
      },
      (error: unknown) => {
        finish()
        reject(error)
      },
    )
  })
}

/**
 * A plain timer that ends early, without rejecting, when `signal` aborts: the caller checks the
 * signal after it (a backoff between attempts that db.end() or a spent budget cuts short). No timer
 * or listener is left behind either way. Not node:timers/promises, whose import costs about 1.5 ms.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
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
