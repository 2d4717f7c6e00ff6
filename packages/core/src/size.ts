import { describeValue, invalidOption } from './errors.js'

/** The units a size string may end in (binary: 1kb = 1024 bytes). */
export type SizeUnit = 'b' | 'kb' | 'mb' | 'gb'

/** Bytes, or a string such as `'512kb'`, `'8mb'`, `'1gb'` (binary units: 1kb = 1024 bytes). */
export type Size = number | `${number}${SizeUnit}`

// Powers of two rather than products: a bundler drops an unused literal table, not one with arithmetic.
const UNIT_POWER: Record<SizeUnit, number> = { b: 0, kb: 10, mb: 20, gb: 30 }
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i

/** Parses a size into whole bytes; the error names the option and what is allowed. */
export function parseSize(value: unknown, component: string, option: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.floor(value)
  } else if (typeof value === 'string') {
    const match = SIZE.exec(value.trim())
    if (match)
      return Math.floor(Number(match[1]) * 2 ** UNIT_POWER[(match[2] as string).toLowerCase() as SizeUnit])
  }
  throw invalidOption(
    component,
    option,
    `must be a size: bytes >= 0 or a string like '512kb', '8mb', '1gb' (got ${describeValue(value)})`,
  )
}
