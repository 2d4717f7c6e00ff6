import { type Clock, type Duration, parseDuration } from '@warmstart/core'

/** A clock that moves only when told to: TTL logic is tested without sleeping. */
export interface FakeClock extends Clock {
  /** Moves the clock forward by a duration (`1500`, `'5m'`). */
  advance(by: Duration): void
  /** Sets the clock to a wall-clock time in milliseconds. */
  set(time: number): void
}

/** A fake wall clock starting at `start` (default 2026-01-01T00:00:00Z). */
export function fakeClock(start: number = Date.UTC(2026, 0, 1)): FakeClock {
  let time = start
  return {
    now: () => time,
    advance(by) {
      time += parseDuration(by, 'fakeClock', 'advance')
    },
    set(to) {
      time = to
    },
  }
}
