import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tmpCache } from '@warmstart/tmp-cache'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const HEADER = 56
const MAX_BYTES = 1_000

type Op =
  | { kind: 'set'; key: string; size: number }
  | { kind: 'get'; key: string }
  | { kind: 'delete'; key: string }

/** What the cache should hold: an LRU by bytes, least recently used first, written independently of it. */
class Model {
  readonly entries = new Map<string, number>()

  bytes(): number {
    let total = 0
    for (const bytes of this.entries.values()) total += bytes
    return total
  }

  set(key: string, size: number): 'stored' | 'too-large' {
    // Keys are stored as UTF-16 code units: two bytes each.
    const bytes = HEADER + 2 * key.length + size
    if (bytes > MAX_BYTES) return 'too-large'
    // Room is made before the write (the old value of the key counts until it is replaced) ...
    while (this.bytes() + bytes > MAX_BYTES && this.entries.size > 0) {
      this.entries.delete(this.entries.keys().next().value as string)
    }
    this.entries.delete(key)
    this.entries.set(key, bytes)
    return 'stored'
  }

  get(key: string): boolean {
    const bytes = this.entries.get(key)
    if (bytes === undefined) return false
    this.entries.delete(key)
    this.entries.set(key, bytes)
    return true
  }
}

const keys = fc.constantFrom('a', 'bb', 'ccc', '../d', 'user-1', 'user-22')
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('set' as const), key: keys, size: fc.nat({ max: 1_100 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('get' as const), key: keys }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keys }) },
)

describe('the byte budget under random operations', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tmp-cache-prop-'))
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('stays under maxBytes, matches an LRU model, and agrees with the disk', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
        const dir = join(root, String(run++))
        const cache = tmpCache({ dir, maxBytes: MAX_BYTES })
        const model = new Model()
        for (const o of ops) {
          if (o.kind === 'set') {
            const value = Buffer.alloc(o.size, o.key)
            const outcome = await cache.set(o.key, value).then(
              () => 'stored',
              (e: { code?: string }) => (e.code === 'ERR_TMP_CACHE_TOO_LARGE' ? 'too-large' : 'other'),
            )
            expect(outcome).toBe(model.set(o.key, o.size))
          } else if (o.kind === 'get') {
            const got = await cache.get(o.key)
            expect(got !== undefined).toBe(model.get(o.key))
            if (got !== undefined) expect(got.equals(Buffer.alloc(got.length, o.key))).toBe(true)
          } else {
            expect(await cache.delete(o.key)).toBe(model.entries.delete(o.key))
          }
          const stats = cache.stats()
          expect(stats.bytes).toBeLessThanOrEqual(MAX_BYTES)
          expect(stats.bytes).toBe(model.bytes())
          expect(stats.entries).toBe(model.entries.size)
        }
        const files = await readdir(dir).catch(() => [])
        const onDisk = await Promise.all(files.map(async (f) => (await stat(join(dir, f))).size))
        expect(onDisk.reduce((a, b) => a + b, 0)).toBe(model.bytes())
      }),
      { numRuns: 40 },
    )
  })
})
