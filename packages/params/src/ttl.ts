import type { Duration } from '@warmstart/core'
import { invalidOption } from '@warmstart/core/internal'

/** How long a value stays fresh: a duration (`'5m'`, `300_000`), or `'forever'` / `Infinity`. */
export type Ttl = Duration | 'forever'

/** Checks that a fraction option lies in [min, 1) and returns it. */
export function parseFraction(value: unknown, component: string, option: string, example: string): number {
  if (typeof value === 'number' && value >= 0 && value < 1) return value
  throw invalidOption(
    component,
    option,
    `must be a number from 0 up to (not including) 1, such as ${example}`,
  )
}
