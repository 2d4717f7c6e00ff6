/**
 * Rough byte costs of V8 values, for a budget rather than an audit: an object header, a pointer
 * per slot, two bytes per string character (V8 stores strings as UTF-16 unless they are one-byte,
 * so this errs high), the backing store of binary data.
 */
const HEADER = 16
const POINTER = 8
const NUMBER = 8
const BOOLEAN = 4
const STRING_HEADER = 12
/** Deeper than this, a nested value counts as one pointer: estimating must stay cheap. */
const MAX_DEPTH = 8

function sizeOfString(value: string): number {
  return STRING_HEADER + 2 * value.length
}

function estimate(value: unknown, depth: number, seen: Set<object>): number {
  switch (typeof value) {
    case 'string':
      return sizeOfString(value)
    case 'number':
    case 'bigint':
      return NUMBER
    case 'boolean':
      return BOOLEAN
    case 'undefined':
    case 'symbol':
    case 'function':
      return POINTER
  }
  if (value === null) return POINTER
  const object = value as object
  // A value reached twice is counted once; a cycle stops here.
  if (depth > MAX_DEPTH || seen.has(object)) return POINTER
  if (ArrayBuffer.isView(object)) return HEADER + object.byteLength
  if (object instanceof ArrayBuffer) return HEADER + object.byteLength
  seen.add(object)
  const next = depth + 1
  let total = HEADER
  if (Array.isArray(object)) {
    for (const item of object) total += POINTER + estimate(item, next, seen)
  } else if (object instanceof Map) {
    for (const [key, item] of object)
      total += 2 * POINTER + estimate(key, next, seen) + estimate(item, next, seen)
  } else if (object instanceof Set) {
    for (const item of object) total += POINTER + estimate(item, next, seen)
  } else if (object instanceof Date) {
    total += NUMBER
  } else {
    for (const key of Object.keys(object)) {
      total += POINTER + sizeOfString(key) + estimate((object as Record<string, unknown>)[key], next, seen)
    }
  }
  return total
}

/**
 * Estimates the bytes a value holds: strings, numbers, booleans, Buffers and typed arrays, and
 * arrays, Maps, Sets and objects walked recursively (to a bounded depth, cycle-safe).
 */
export function estimateSize(value: unknown): number {
  return estimate(value, 0, new Set())
}
