import { estimateSize } from '@warmstart/lru'
import { describe, expect, it } from 'vitest'

describe('estimateSize', () => {
  it('counts two bytes per string character plus a header', () => {
    expect(estimateSize('')).toBe(12)
    expect(estimateSize('héllo')).toBe(22)
    expect(estimateSize('x'.repeat(1000)) - estimateSize('')).toBe(2000)
  })

  it('counts binary data by its byte length', () => {
    expect(estimateSize(Buffer.alloc(4096))).toBe(4096 + 16)
    expect(estimateSize(new Float64Array(10))).toBe(80 + 16)
    expect(estimateSize(new ArrayBuffer(100))).toBe(116)
  })

  it('gives small fixed sizes to scalars', () => {
    expect(estimateSize(1.5)).toBe(8)
    expect(estimateSize(10n)).toBe(8)
    expect(estimateSize(true)).toBe(4)
    expect(estimateSize(null)).toBe(8)
    expect(estimateSize(undefined)).toBe(8)
    expect(estimateSize(Symbol('s'))).toBe(8)
    expect(estimateSize(() => {})).toBe(8)
    expect(estimateSize(new Date())).toBe(24)
  })

  it('walks arrays, objects, Maps and Sets', () => {
    const text = estimateSize('abc')
    expect(estimateSize(['abc', 'abc'])).toBe(16 + 2 * (8 + text))
    expect(estimateSize({ k: 'abc' })).toBe(16 + 8 + estimateSize('k') + text)
    expect(estimateSize(new Map([['k', 'abc']]))).toBe(16 + 16 + estimateSize('k') + text)
    expect(estimateSize(new Set(['abc']))).toBe(16 + 8 + text)
    expect(estimateSize({ list: Array.from({ length: 100 }, (_, i) => i) })).toBeGreaterThan(1600)
  })

  it('is cycle-safe, counts a shared value once and stops at a bounded depth', () => {
    const loop: Record<string, unknown> = {}
    loop.self = loop
    expect(estimateSize(loop)).toBe(16 + 8 + estimateSize('self') + 8)
    const shared = 'x'.repeat(100)
    const big = { data: Buffer.alloc(1000) }
    expect(estimateSize([big, big])).toBeLessThan(1200)
    let deep: unknown = Buffer.alloc(10_000)
    for (let i = 0; i < 20; i++) deep = [deep]
    expect(estimateSize(deep)).toBeLessThan(1000)
    expect(estimateSize([shared])).toBeGreaterThan(200)
  })
})
