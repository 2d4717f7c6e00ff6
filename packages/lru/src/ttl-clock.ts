import type { Clock } from '@warmstart/core'

/**
 * The clock lru-cache reads for TTLs. lru-cache counts an entry stale once `now - start > ttl`, so
 * a wall clock stepped back (an NTP step, the host's time set) would keep every entry fresh for the
 * length of the step. When the wall clock reads earlier than at the last reading, this clock
 * leaps past that reading by more than the longest TTL given, so that every TTL running has
 * expired (how long ago an entry was set is unknown then), and it goes on from there at the wall
 * clock's pace. A smaller step, after more time than it has passed, cannot be told from time
 * passing. Entries without a TTL are never stale, whatever it reads.
 */
export function ttlClock(clock: Clock, longestTtl: () => number): Clock {
  let last = Number.NEGATIVE_INFINITY
  let offset = 0
  return {
    now() {
      const wall = clock.now()
      let time = wall + offset
      if (time < last) {
        offset = last + longestTtl() + 1 - wall
        time = wall + offset
      }
      last = time
      return time
    },
  }
}
