import { describe, expect, it } from 'vitest'
import { configKey } from '../src/config-key.js'

class Handler {
  constructor(readonly timeout: number) {}
}

describe('configKey', () => {
  it('is equal for deep-equal plain data whatever the key order, ignoring undefined fields', () => {
    expect(configKey({ a: 1, b: { c: [1, 'x', true, null] }, d: undefined })).toBe(
      configKey({ b: { c: [1, 'x', true, null] }, a: 1 }),
    )
    const bare = Object.create(null) as Record<string, unknown>
    bare.a = 1
    expect(configKey(bare)).toBe(configKey({ a: 1 }))
  })

  it('tells apart values that print alike', () => {
    const keys = [1, '1', 1n, true, 'true', null, 'null', undefined, 0, -0, Number.NaN, [1], { 0: 1 }, [], {}]
    expect(new Set(keys.map(configKey)).size).toBe(keys.length)
  })

  it('compares functions, class instances and symbols by identity', () => {
    const fn = () => {}
    const handler = new Handler(1)
    const symbol = Symbol('s')
    expect(configKey({ fn, handler, symbol })).toBe(configKey({ fn, handler, symbol }))
    expect(configKey({ fn })).not.toBe(configKey({ fn: () => {} }))
    expect(configKey({ handler })).not.toBe(configKey({ handler: new Handler(1) }))
    expect(configKey({ symbol })).not.toBe(configKey({ symbol: Symbol('s') }))
    expect(configKey(new Date(0))).not.toBe(configKey(new Date(0)))
  })

  it('survives a cycle, which it compares by identity', () => {
    const loop: Record<string, unknown> = { name: 'a' }
    loop.self = loop
    const list: unknown[] = [1]
    list.push(list)
    expect(configKey(loop)).toBe(configKey(loop))
    expect(configKey(list)).toBe(configKey(list))
    const shared = { x: 1 }
    expect(configKey({ a: shared, b: shared })).toBe(configKey({ a: { x: 1 }, b: { x: 1 } }))
  })
})
