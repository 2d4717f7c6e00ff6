import { mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { fakeClock } from '@warmstart/testing'
import { tmpCache } from '@warmstart/tmp-cache'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fileNameOf } from '../src/entry-file.js'

let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tmp-cache-keys-'))
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

/** The bytes of the entry files in `dir` (temp files would be a failed write left behind: there must be none). */
async function bytesOnDisk(dir: string): Promise<{ files: number; bytes: number }> {
  const names = await readdir(dir)
  expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([])
  const sizes = await Promise.all(names.map(async (n) => (await stat(join(dir, n))).size))
  return { files: names.length, bytes: sizes.reduce((a, b) => a + b, 0) }
}

describe('keys are identified losslessly', () => {
  // An emoji cut in half (`name.slice(0, n)`) leaves a lone surrogate; UTF-8 turns each into U+FFFD.
  const tenantA = 'report:Team \ud83d'
  const tenantB = 'report:Team \ud83e'

  it('never serves one lone-surrogate key the value of another', async () => {
    const cache = tmpCache({ dir: join(root, 'c') })
    await cache.set(tenantA, 'CONFIDENTIAL report of tenant A')
    expect(await cache.get(tenantB)).toBeUndefined()
    await cache.set(tenantB, 'report of tenant B')
    expect((await cache.get(tenantA))?.toString()).toBe('CONFIDENTIAL report of tenant A')
    expect((await cache.get(tenantB))?.toString()).toBe('report of tenant B')
    expect(fileNameOf(tenantA)).not.toBe(fileNameOf(tenantB))
    expect((await readdir(cache.dir)).sort()).toEqual([fileNameOf(tenantA), fileNameOf(tenantB)].sort())
  })

  it('keeps such keys exactly across a restart, for the leak guard and the content check', async () => {
    const dir = join(root, 'r')
    await tmpCache({ dir }).set(tenantA, 'a')
    const again = tmpCache({ dir })
    expect((await again.get(tenantA))?.toString()).toBe('a')
    expect(await again.get(tenantB)).toBeUndefined()
    expect(again.stats()).toMatchObject({ entries: 1, corrupt: 0 })
  })

  it("serves a file only to the exact key it holds: another key's file under this name is corrupt", async () => {
    const cache = tmpCache({ dir: join(root, 'x'), logger: { warn: () => {}, error: () => {} } })
    await cache.set(tenantA, 'A')
    await rename(join(cache.dir, fileNameOf(tenantA)), join(cache.dir, fileNameOf(tenantB)))
    expect(await cache.get(tenantB)).toBeUndefined()
    expect(cache.stats()).toMatchObject({ corrupt: 1 })
    expect(await readdir(cache.dir)).toEqual([])
  })

  it('stores keys as UTF-16 code units: the header says so', async () => {
    const cache = tmpCache({ dir: join(root, 'h') })
    await cache.set('\ud83d', '')
    const file = await readFile(join(cache.dir, fileNameOf('\ud83d')))
    expect(file.subarray(0, 4).toString()).toBe('WSC2')
    expect(file.readUInt32BE(4)).toBe(2)
    expect([...file.subarray(56)]).toEqual([0x3d, 0xd8])
  })
})

describe('one lock discipline: get, set, delete and expiry racing', () => {
  type Op =
    | { kind: 'set'; key: string; size: number; stream: boolean }
    | { kind: 'get' | 'delete'; key: string }
  const keys = ['a', 'b', 'c', 'd']
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      key: fc.constantFrom(...keys),
      size: fc.nat({ max: 400 }),
      stream: fc.boolean(),
    }),
    fc.record({ kind: fc.constantFrom('get' as const, 'delete' as const), key: fc.constantFrom(...keys) }),
  )

  it('keeps the byte count equal to the bytes on disk, within budget, serving only what was set for the key', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 25 }),
        fc.nat({ max: 25 }),
        async (ops, expireAt) => {
          const dir = join(root, String(run++))
          const clock = fakeClock()
          const cache = tmpCache({ dir, maxBytes: 1_000, ttl: '1m', clock })
          // Every value names its key and its size, so a value served for another key is seen.
          const value = (key: string, size: number) => Buffer.from(`${key}:${size}:`.padEnd(size + 10, key))
          const served: Promise<void>[] = []
          // Nothing awaited between the calls: they all run interleaved, and the clock moves half way.
          ops.forEach((o, i) => {
            if (i === expireAt) clock.advance('2m')
            if (o.kind === 'set') {
              const bytes = value(o.key, o.size)
              const stored = o.stream ? Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]) : bytes
              served.push(
                cache
                  .set(o.key, stored)
                  .catch((e: { code?: string }) => expect(e.code).toBe('ERR_TMP_CACHE_TOO_LARGE')),
              )
            } else if (o.kind === 'get') {
              served.push(
                cache.get(o.key).then((got) => {
                  if (got !== undefined) expect(got.toString().startsWith(`${o.key}:`)).toBe(true)
                }),
              )
            } else {
              served.push(cache.delete(o.key).then(() => {}))
            }
          })
          await Promise.all(served)
          const disk = await bytesOnDisk(dir).catch(() => ({ files: 0, bytes: 0 }))
          const stats = cache.stats()
          expect(stats.bytes).toBe(disk.bytes)
          expect(stats.entries).toBe(disk.files)
          expect(stats.bytes).toBeLessThanOrEqual(1_000)
          for (const key of keys) {
            const got = await cache.get(key)
            if (got !== undefined) expect(got.toString().startsWith(`${key}:`)).toBe(true)
          }
          expect(cache.stats().bytes).toBe((await bytesOnDisk(dir).catch(() => ({ bytes: 0 }))).bytes)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('a get racing a set of the same key leaves the count right (the case of issue 15: drifted in 165 of 200 trials before)', async () => {
    for (let trial = 0; trial < 20; trial++) {
      const dir = join(root, `same-${trial}`)
      const cache = tmpCache({ dir, maxBytes: '4mb' })
      await cache.set('k', Buffer.alloc(1_000_000, 1))
      await Promise.all([
        cache.get('k'),
        cache.set('k', 'small'),
        cache.get('k'),
        cache.set('k', Buffer.alloc(2_000, 2)),
      ])
      expect(cache.stats().bytes).toBe((await bytesOnDisk(dir)).bytes)
      expect((await cache.get('k'))?.length).toBe(2_000)
    }
  })

  it('an expired entry found by a get is removed, not a value a racing set has just written', async () => {
    const clock = fakeClock()
    const cache = tmpCache({ dir: join(root, 'exp'), ttl: '1m', clock })
    await cache.set('k', 'old')
    clock.advance('2m')
    const [got] = await Promise.all([cache.get('k'), cache.set('k', 'new')])
    expect(got).toBeUndefined()
    expect((await cache.get('k'))?.toString()).toBe('new')
    expect(cache.stats()).toMatchObject({ entries: 1 })
    expect(cache.stats().bytes).toBe((await bytesOnDisk(cache.dir)).bytes)
  })

  it('an entry written "in the future" (the clock stepped back since) counts as expired, not fresh for the step', async () => {
    const clock = fakeClock()
    const cache = tmpCache({ dir: join(root, 'stepped'), ttl: '1m', clock })
    await cache.set('k', 'written before the step')
    expect((await cache.get('k'))?.toString()).toBe('written before the step')
    clock.set(clock.now() - 3_600_000)
    expect(await cache.get('k')).toBeUndefined()
    expect(cache.stats()).toMatchObject({ entries: 0 })
    await cache.set('k', 'written after it')
    expect((await cache.get('k'))?.toString()).toBe('written after it')
  })
})
