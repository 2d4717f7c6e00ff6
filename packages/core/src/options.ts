import { LONGEST_INVOCATION_MS } from './deadline.js'
import { parseDuration } from './duration.js'
import { describeValue, invalidOption, WarmstartError } from './errors.js'
import type { Logger } from './logger.js'

/**
 * Rejects an options object that is not a plain object, or that has a key its component does not
 * know. A misspelt option (`tll` for `ttl`) would otherwise be ignored in silence and the default
 * used; JavaScript callers get no compiler to tell them. `prefix` names a nested object
 * (`retry` in `retry.attempts`) so that the message points at the right place.
 */
export function checkOptions(
  component: string,
  options: unknown,
  allowed: readonly string[],
  prefix?: string,
): void {
  if (options === undefined) return
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    const where = prefix === undefined ? 'options' : `option "${prefix}"`
    throw new WarmstartError(
      'ERR_INVALID_OPTION',
      `${component}: ${where} must be an object (got ${describeValue(options)})`,
    )
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue
    const name = prefix === undefined ? key : `${prefix}.${key}`
    const guess = closestName(key, allowed)
    const hint =
      guess === undefined ? '' : ` (did you mean "${prefix === undefined ? guess : `${prefix}.${guess}`}"?)`
    throw invalidOption(component, name, `is not an option${hint}; allowed: ${allowed.join(', ')}`)
  }
}

/**
 * The allowed name closest to `name` by edit distance (transpositions count as one edit), when it
 * is close enough to be a likely typo: at most a third of the name's length, and at least one.
 */
export function closestName(name: string, allowed: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1
  for (const candidate of allowed) {
    const distance = editDistance(lower, candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions ("transfrom").
function editDistance(a: string, b: string): number {
  const rows: number[][] = []
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i]
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j)
        continue
      }
      const previous = rows[i - 1] as number[]
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let value = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      }
      row.push(value)
    }
    rows.push(row)
  }
  return (rows[a.length] as number[])[b.length] as number
}

/** A whole number of at least `minimum` (1 unless said), or `fallback` when undefined. */
export function positiveInteger(
  component: string,
  option: string,
  value: unknown,
  fallback: number,
  minimum = 1,
): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isInteger(value) && value >= minimum) return value
  throw invalidOption(component, option, `must be a whole number >= ${minimum} (got ${describeValue(value)})`)
}

/**
 * The time limit of work done inside an invocation (a creation, a load), in milliseconds, or
 * `fallback` when undefined: more than 0, and at most the longest a Lambda invocation runs, since
 * a longer one is a mistake no invocation would live to see.
 */
export function timeLimitOption(component: string, option: string, value: unknown, fallback: number): number {
  const ms = durationOption(component, option, value, fallback)
  if (ms === 0 || ms > LONGEST_INVOCATION_MS) {
    throw invalidOption(
      component,
      option,
      `must be more than 0 ms and at most '15m', the longest a Lambda invocation runs (got ${describeValue(value)})`,
    )
  }
  return ms
}

/**
 * A duration option in milliseconds, or `fallback` when undefined. With `allowForever`, the string
 * `'forever'` (and Infinity) mean no limit, and the error lists it among what is allowed.
 */
export function durationOption(
  component: string,
  option: string,
  value: unknown,
  fallback: number,
  allowForever = false,
): number {
  if (value === undefined) return fallback
  if (allowForever && (value === 'forever' || value === Number.POSITIVE_INFINITY))
    return Number.POSITIVE_INFINITY
  try {
    return parseDuration(value, component, option)
  } catch (error) {
    if (!allowForever) throw error
    throw invalidOption(
      component,
      option,
      `must be a duration: milliseconds >= 0, a string like '250ms', '30s', '5m', '1h', '1d', or 'forever' (got ${describeValue(value)})`,
    )
  }
}

/**
 * A `logger` option, or undefined when none is given. `warn` is what every component needs: it
 * logs through `logSafely`, which takes `error` to `warn` on a logger that has no `error`. `orElse`
 * names what else the option takes, for the message (lifecycleMiddleware's `false`).
 */
export function loggerOption(component: string, value: unknown, orElse?: string): Logger | undefined {
  if (value === undefined) return undefined
  if (typeof (value as Partial<Logger> | null)?.warn !== 'function') {
    const alternative = orElse === undefined ? '' : `, or ${orElse}`
    throw invalidOption(
      component,
      'logger',
      `must have warn() and error() methods (such as console)${alternative}`,
    )
  }
  return value as Logger
}
