import type { ValueKind } from './kinds.js'
import type { RequestValue } from './request-record.js'

/**
 * Words that appear in requests and in application state alike. A value equal to one of them says
 * nothing about who made the request, so it is never looked for (a tenant called "default", a
 * user called "admin").
 */
const COMMON_WORDS = new Set([
  'admin',
  'anonymous',
  'application/json',
  'default',
  'development',
  'example',
  'false',
  'localhost',
  'nobody',
  'production',
  'public',
  'private',
  'service',
  'staging',
  'string',
  'system',
  'undefined',
  'unknown',
])

const DIGITS = /^\d+$/
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/
const IPV6 = /^[0-9a-f:]+$/i

/** The rule for what is worth looking for, and the allow list. */
export interface ValueRule {
  readonly minLength: number
  readonly allow: readonly (string | RegExp)[]
}

/**
 * Turns a raw value into the value the guard looks for, or undefined when it must not be looked for:
 * shorter than `minLength`, a common word, or on the allow list. Numbers and IP addresses are
 * matched as a whole only: "123456" inside a timestamp or "10.0.0.1" inside "10.0.0.15" is chance.
 */
export function toRequestValue(raw: string, kind: ValueKind, rule: ValueRule): RequestValue | undefined {
  const value = raw.trim()
  if (value.length < rule.minLength) return undefined
  if (COMMON_WORDS.has(value.toLowerCase())) return undefined
  for (const allowed of rule.allow) {
    if (typeof allowed === 'string') {
      if (allowed === value) return undefined
    } else {
      allowed.lastIndex = 0
      if (allowed.test(value)) return undefined
    }
  }
  const whole =
    kind === 'ip address' ||
    DIGITS.test(value) ||
    IPV4.test(value) ||
    (value.includes(':') && IPV6.test(value))
  return { value, kind, exactOnly: whole }
}
