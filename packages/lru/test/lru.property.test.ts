import { boundedLru } from '@warmstart/lru'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

/** The reference: an array of entries, least recently used first, bounded the same way. */
class ReferenceLru {
  readonly entries: { key: string; value: number; size: number }[] = []
  evictions = 0

  constructor(
    readonly max: number | undefined,
    readonly maxBytes: number | undefined,
  ) {}

  get(key: string): number | undefined {
    const index = this.entries.findIndex((entry) => entry.key === key)
    if (index < 0) return undefined
    const [entry] = this.entries.splice(index, 1)
    this.entries.push(entry!)
    return entry!.value
  }

  has(key: string): boolean {
    return this.entries.some((entry) => entry.key === key)
  }

  delete(key: string): boolean {
    const index = this.entries.findIndex((entry) => entry.key === key)
    if (index >= 0) this.entries.splice(index, 1)
    return index >= 0
  }

  set(key: string, value: number, size: number): boolean {
    if (this.maxBytes !== undefined && size > this.maxBytes) {
      this.delete(key)
      return false
    }
    const index = this.entries.findIndex((entry) => entry.key === key)
    if (index >= 0) {
      const [old] = this.entries.splice(index, 1)
      // Setting the same value again only refreshes its place (lru-cache keeps the old size).
      this.entries.push(old!.value === value ? old! : { key, value, size })
    } else {
      if (this.max !== undefined && this.entries.length === this.max) this.evict()
      this.entries.push({ key, value, size })
    }
    if (this.maxBytes !== undefined) {
      const budget = this.maxBytes - size
      while (this.bytes() - size > budget) this.evict()
    }
    return true
  }

  bytes(): number {
    return this.entries.reduce((total, entry) => total + entry.size, 0)
  }

  private evict(): void {
    this.entries.shift()
    this.evictions++
  }
}

type Operation = { op: 'get' | 'has' | 'delete'; key: string } | { op: 'set'; key: string; value: number }

const keys = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j')
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ op: fc.constantFrom('get' as const, 'has' as const, 'delete' as const), key: keys }),
  fc.record({ op: fc.constant('set' as const), key: keys, value: fc.integer({ min: 1, max: 60 }) }),
)
const bounds = fc
  .record({
    max: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    maxBytes: fc.option(fc.integer({ min: 1, max: 150 }), { nil: undefined }),
  })
  .map(({ max, maxBytes }) => ({ max: max ?? (maxBytes === undefined ? 3 : undefined), maxBytes }))

describe('boundedLru properties', () => {
  it('matches the reference model and never exceeds its bounds under random operations', () => {
    fc.assert(
      fc.property(bounds, fc.array(operation, { maxLength: 80 }), ({ max, maxBytes }, operations) => {
        // The value is its own size in bytes, so the model knows every size.
        const cache = boundedLru<string, number>({ max, maxBytes, sizeOf: (value) => value })
        const model = new ReferenceLru(max, maxBytes)
        for (const step of operations) {
          if (step.op === 'set') {
            expect(cache.set(step.key, step.value)).toBe(model.set(step.key, step.value, step.value))
          } else {
            expect(cache[step.op](step.key)).toEqual(model[step.op](step.key))
          }
          const stats = cache.stats()
          if (max !== undefined) expect(stats.entries).toBeLessThanOrEqual(max)
          if (maxBytes !== undefined) expect(stats.bytes).toBeLessThanOrEqual(maxBytes)
        }
        expect([...cache.entries()].map(([key, value]) => `${key}=${value}`)).toEqual(
          model.entries.map((entry) => `${entry.key}=${entry.value}`).reverse(),
        )
        expect(cache.stats().evictions).toBe(model.evictions)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps the default size estimate within maxBytes for arbitrary JSON-like values', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 4096 }),
        fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })), { maxLength: 40 }),
        (maxBytes, writes) => {
          const cache = boundedLru<string, object>({ maxBytes })
          for (const [key, value] of writes) {
            cache.set(key, { value })
            expect(cache.stats().bytes).toBeLessThanOrEqual(maxBytes)
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})
