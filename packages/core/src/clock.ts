/**
 * Where warmstart reads the time. `now()` is wall-clock milliseconds (like `Date.now()`), read at
 * the moment of each check: a timer cannot refresh a timestamp while Lambda has the process
 * frozen, and a monotonic clock says nothing across a snapshot restore on another host.
 */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
