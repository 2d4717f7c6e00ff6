import { TransformError } from './errors.js'

/** How a raw value becomes what the caller gets: parsed JSON, or the bytes of a base64 string. */
export type Transform = 'json' | 'binary'

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Checks a `transform` option at the call that gives it. */
export function isTransform(value: unknown): value is Transform | undefined {
  return value === undefined || value === 'json' || value === 'binary'
}

/**
 * Applies a transform to a raw string or byte value. A failure names `parameter`, never the
 * value, and keeps no cause: `JSON.parse` quotes part of its input in its message.
 */
export function applyTransform(parameter: string, transform: Transform, raw: string | Uint8Array): unknown {
  if (transform === 'binary') {
    if (raw instanceof Uint8Array) return raw
    const compact = raw.replace(/\s+/g, '')
    if (!BASE64.test(compact)) throw new TransformError(parameter, transform, 'not base64')
    return new Uint8Array(Buffer.from(compact, 'base64'))
  }
  const text = typeof raw === 'string' ? raw : new TextDecoder().decode(raw)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new TransformError(parameter, transform, 'not valid JSON')
  }
  return deepFreeze(parsed)
}

/**
 * Freezes a parsed JSON value: one cached object is handed to every invocation, so a handler
 * that mutated it would change what the next invocation reads. With a stack of its own, not
 * recursion: JSON.parse takes any depth, and a 64 KiB secret nests 32,768 deep.
 */
function deepFreeze(value: unknown): unknown {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const next = stack.pop()
    if (typeof next !== 'object' || next === null || Object.isFrozen(next)) continue
    Object.freeze(next)
    for (const child of Object.values(next)) stack.push(child)
  }
  return value
}
