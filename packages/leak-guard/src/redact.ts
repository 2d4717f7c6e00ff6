/** How many characters of a matched value a finding shows, at most (and never more than half of it). */
const SHOWN = 4

/**
 * A request value as findings and logs show it: its first few characters and an ellipsis, never
 * the whole value (a token, a cookie, an email are personal or secret), and never more than half.
 */
export function redact(value: string): string {
  return `${value.slice(0, Math.min(SHOWN, Math.floor(value.length / 2)))}…`
}

/**
 * Whether a piece of text would give a request value away on a path: it is one, contains one, or is
 * a piece of a secret. The guard answers it for every request it knows of (checked, in flight and
 * remembered), so that no key that matched one is ever written out in full.
 */
export type Reveals = (text: string) => boolean

const IDENTIFIER = /^[A-Za-z_$][\w$]{0,31}$/
const DIGIT_RUN = /\d{3}/

/**
 * Whether a name looks like code (`sessions`, `cachedUser`, `slot1`) rather than data: an identifier
 * of at most 32 characters without a run of three digits (`u83731` is an id).
 */
function looksLikeCode(name: string): boolean {
  return IDENTIFIER.test(name) && !DIGIT_RUN.test(name)
}

/**
 * A property name, variable or map key on a path. A name that looks like code and is no request
 * value is shown; any other string is data (an id, an email, a path) and is redacted, whether or not
 * the guard knows whose it is: it may be a value of a request the guard no longer remembers. A key of
 * a Map or of a registered root's listing (`asData`) is data whatever it looks like (a user name
 * `alice_smith` is an identifier too): a string is always redacted there, and so is a number of three
 * digits or more.
 */
export function describeKey(key: unknown, reveals: Reveals, asData = false): string {
  if (typeof key === 'string')
    return !asData && looksLikeCode(key) && !reveals(key) ? key : `"${redact(key)}"`
  if (typeof key === 'number' || typeof key === 'bigint') {
    const digits = String(key)
    return reveals(digits) || (asData && DIGIT_RUN.test(digits)) ? redact(digits) : digits
  }
  if (typeof key === 'boolean') return String(key)
  return typeof key === 'symbol'
    ? 'a symbol'
    : `a ${typeof key === 'object' ? (key === null ? 'null' : 'object') : typeof key}`
}

/** One property on a path: `.name`, or `["redact…"]` for a key that is not shown as it is. */
export function propertyStep(key: string, reveals: Reveals): string {
  const shown = describeKey(key, reveals)
  return shown.startsWith('"') ? `[${shown}]` : `.${shown}`
}

/** A name the application chose (a registered root, a script): shown unless it gives a request value away. */
export function describeName(name: string, reveals: Reveals): string {
  return reveals(name) ? redact(name) : name
}
