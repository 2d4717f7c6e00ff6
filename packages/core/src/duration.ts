import { describeValue, invalidOption } from './errors.js'

/** The units a duration string may end in. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd'

/** Milliseconds, or a string such as `'250ms'`, `'30s'`, `'5m'`, `'1.5h'`, `'1d'`. */
export type Duration = number | `${number}${DurationUnit}`

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

/**
 * Parses a duration into whole milliseconds. `component` and `option` name the setting in the
 * error, which says what is allowed.
 */
export function parseDuration(value: unknown, component: string, option: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value)
  } else if (typeof value === 'string') {
    const match = DURATION.exec(value.trim())
    if (match) return Math.round(Number(match[1]) * UNIT_MS[match[2] as DurationUnit])
  }
  throw invalidOption(
    component,
    option,
    `must be a duration: milliseconds >= 0 or a string like '250ms', '30s', '5m', '1h', '1d' (got ${describeValue(value)})`,
  )
}
