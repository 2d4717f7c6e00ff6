/** How many characters of a matched value a finding shows. */
const SHOWN = 4

/**
 * A request value as findings and logs show it: its first few characters and an ellipsis, never
 * the whole value (a token, a cookie, an email are personal or secret).
 */
export function redact(value: string): string {
  return value.length <= SHOWN ? '…' : `${value.slice(0, SHOWN)}…`
}

const IDENTIFIER = /^[A-Za-z_$][\w$]{0,31}$/

/** A property name or map key on a path. Names that look like code are shown; other strings are redacted. */
export function describeKey(key: unknown): string {
  if (typeof key === 'string') return IDENTIFIER.test(key) ? key : `"${key.length <= 12 ? key : redact(key)}"`
  if (typeof key === 'number' || typeof key === 'boolean' || typeof key === 'bigint') return String(key)
  return typeof key === 'symbol'
    ? 'a symbol'
    : `a ${typeof key === 'object' ? (key === null ? 'null' : 'object') : typeof key}`
}

/** One property on a path: `.name`, or `["odd key"]` for a key that is not an identifier. */
export function propertyStep(key: string): string {
  const shown = describeKey(key)
  return shown.startsWith('"') ? `[${shown}]` : `.${shown}`
}
