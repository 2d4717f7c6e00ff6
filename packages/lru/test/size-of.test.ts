import { estimateSize, UNSEEN_BYTES } from '@warmstart/lru'
import { describe, expect, it } from 'vitest'

const MB = 1024 * 1024

describe('estimateSize', () => {
  it('counts two bytes per string character plus a header', () => {
    expect(estimateSize('')).toBe(12)
    expect(estimateSize('héllo')).toBe(22)
    expect(estimateSize('x'.repeat(1000)) - estimateSize('')).toBe(2000)
  })

  it('counts binary data by its whole backing store', () => {
    expect(estimateSize(Buffer.allocUnsafeSlow(4096))).toBe(4096 + 16)
    expect(estimateSize(new Float64Array(10))).toBe(80 + 16)
    expect(estimateSize(new ArrayBuffer(100))).toBe(116)
    expect(estimateSize(new SharedArrayBuffer(100))).toBe(116)
  })

  it('counts a small view as the whole buffer it keeps alive (issue 16: 16 bytes of 1 MB)', () => {
    const big = Buffer.alloc(MB)
    expect(estimateSize(big.subarray(0, 16))).toBe(MB + 16)
    expect(estimateSize(new DataView(big.buffer, 0, 4))).toBeGreaterThanOrEqual(MB)
    // A buffer shared by two views in one value is counted once.
    expect(estimateSize([big.subarray(0, 1), big.subarray(1, 2)])).toBeLessThan(MB + 200)
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

  it('counts non-enumerable and symbol-keyed fields', () => {
    const hidden = {}
    Object.defineProperty(hidden, 'data', { value: 'x'.repeat(10_000), enumerable: false })
    expect(estimateSize(hidden)).toBeGreaterThan(20_000)
    expect(estimateSize({ [Symbol('data')]: 'x'.repeat(10_000) })).toBeGreaterThan(20_000)
  })

  it('counts an instance of a class with private fields as unseen, at least 1 MiB', () => {
    class Holder {
      #data: Buffer
      constructor(data: Buffer) {
        this.#data = data
      }
      get length(): number {
        return this.#data.length
      }
    }
    class Derived extends Holder {}
    class Plain {
      visible = 'x'
    }
    expect(UNSEEN_BYTES).toBe(MB)
    expect(estimateSize(new Holder(Buffer.alloc(10)))).toBeGreaterThanOrEqual(MB)
    expect(estimateSize(new Derived(Buffer.alloc(10)))).toBeGreaterThanOrEqual(MB)
    expect(estimateSize(new Plain())).toBeLessThan(100)
  })

  it('counts nesting deeper than its walk as unseen, not as a pointer', () => {
    let deep: unknown = Buffer.alloc(10_000)
    for (let i = 0; i < 20; i++) deep = [deep]
    expect(estimateSize(deep)).toBeGreaterThan(10_000)
    let deeper: unknown = 'leaf'
    for (let i = 0; i < 40; i++) deeper = { next: deeper }
    expect(estimateSize(deeper)).toBeGreaterThanOrEqual(MB)
  })

  it('counts what it cannot look into (a promise, a Proxy) as unseen, and runs no user code', () => {
    expect(estimateSize(Promise.resolve('x'))).toBeGreaterThanOrEqual(MB)
    let trapped = 0
    const proxy = new Proxy(
      {},
      {
        ownKeys: () => {
          trapped++
          return []
        },
        getPrototypeOf: () => {
          trapped++
          return null
        },
      },
    )
    expect(estimateSize(proxy)).toBe(MB)
    let called = 0
    const withGetter = {
      get value() {
        called++
        return 'x'
      },
    }
    class Sneaky extends Map<string, string> {
      override entries(): MapIterator<[string, string]> {
        called++
        return super.entries()
      }
      override get size(): number {
        called++
        return 0
      }
    }
    expect(estimateSize(withGetter)).toBeGreaterThan(16)
    expect(estimateSize(new Sneaky([['k', 'v'.repeat(100)]]))).toBeGreaterThan(200)
    expect({ trapped, called }).toEqual({ trapped: 0, called: 0 })
  })

  it('samples large containers: an array of 20k objects is estimated close to a full count', () => {
    const item = (i: number) => ({ id: i, name: `name ${String(i).padStart(5, '0')}` })
    const one = estimateSize(item(0))
    const array = Array.from({ length: 20_000 }, (_, i) => item(i))
    const estimate = estimateSize(array)
    const full = 16 + 20_000 * (8 + one)
    expect(estimate).toBeGreaterThan(full * 0.9)
    expect(estimate).toBeLessThan(full * 1.1)
    const map = new Map(array.map((v) => [v.name, v]))
    expect(estimateSize(map)).toBeGreaterThan(full)
  })

  it('is cycle-safe and counts a shared value once', () => {
    const loop: Record<string, unknown> = {}
    loop.self = loop
    expect(estimateSize(loop)).toBe(16 + 8 + estimateSize('self') + 8)
    const big = { data: Buffer.allocUnsafeSlow(1000) }
    expect(estimateSize([big, big])).toBeLessThan(1200)
    expect(estimateSize(['x'.repeat(100)])).toBeGreaterThan(200)
  })

  it('stops after a bounded number of objects, counting the rest at the average read', () => {
    // 64 × 64 distinct objects: more than the walk reads, fewer than sampling would skip.
    const wide = Array.from({ length: 30 }, () =>
      Object.fromEntries(
        Array.from({ length: 30 }, (_, j) => [`k${j}`, Array.from({ length: 30 }, () => ({ v: 1 }))]),
      ),
    )
    const estimate = estimateSize(wide)
    expect(Number.isFinite(estimate)).toBe(true)
    expect(estimate).toBeGreaterThan(30 * 30 * 30 * 16)
  })
})
