import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { WarmstartError } from '@warmstart/core'
import { longLivedRoots } from '@warmstart/core/internal'
import { fakeClock } from '@warmstart/testing'
import { recordEvents } from '@warmstart/testing/doubles'
import { TmpCacheTooLargeError, tmpCache } from '@warmstart/tmp-cache'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fileNameOf } from '../src/entry-file.js'

let root: string
let recorder: ReturnType<typeof recordEvents>

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tmp-cache-test-'))
  recorder = recordEvents('tmp-cache.')
})

afterEach(async () => {
  recorder.stop()
  await rm(root, { recursive: true, force: true })
})

function chunks(...parts: string[]): Readable {
  return Readable.from(parts.map((p) => Buffer.from(p)))
}

const HEADER = 56

describe('get and set', () => {
  it('stores bytes, strings and streams, and serves them back', async () => {
    const cache = tmpCache({ dir: join(root, 'c') })
    expect(await cache.get('missing')).toBeUndefined()
    await cache.set('buffer', Buffer.from('hello'))
    await cache.set('u8', new Uint8Array([1, 2, 3]).subarray(1))
    await cache.set('string', 'héllo')
    await cache.set('stream', chunks('a', 'b', 'c'))
    await cache.set('empty', '')
    expect((await cache.get('buffer'))?.toString()).toBe('hello')
    expect([...((await cache.get('u8')) ?? [])]).toEqual([2, 3])
    expect((await cache.get('string'))?.toString()).toBe('héllo')
    expect((await cache.get('stream'))?.toString()).toBe('abc')
    expect((await cache.get('empty'))?.length).toBe(0)
    await cache.set('buffer', 'replaced')
    expect((await cache.get('buffer'))?.toString()).toBe('replaced')
    const stats = cache.stats()
    expect(stats).toMatchObject({ hits: 6, misses: 1, evictions: 0, entries: 5, corrupt: 0 })
    const files = await readdir(cache.dir)
    expect(files).toHaveLength(5)
    const sizes = await Promise.all(files.map(async (f) => (await stat(join(cache.dir, f))).size))
    expect(stats.bytes).toBe(sizes.reduce((a, b) => a + b, 0))
  })

  it('applies concurrent writes of one key in order', async () => {
    const cache = tmpCache({ dir: join(root, 'order') })
    await Promise.all([cache.set('k', 'one'), cache.set('k', chunks('t', 'wo')), cache.set('k', 'three')])
    expect((await cache.get('k'))?.toString()).toBe('three')
    expect(cache.stats()).toMatchObject({ entries: 1 })
    expect(await readdir(cache.dir)).toEqual([fileNameOf('k')])
  })

  it('deletes', async () => {
    const cache = tmpCache({ dir: join(root, 'd') })
    await cache.set('k', 'v')
    expect(await cache.delete('k')).toBe(true)
    expect(await cache.delete('k')).toBe(false)
    expect(await cache.get('k')).toBeUndefined()
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 })
  })

  it('creates its directory 0700 and its files 0600', async () => {
    const cache = tmpCache({ dir: join(root, 'a', 'b') })
    await cache.set('k', 'secret-ish')
    expect((await stat(join(root, 'a', 'b'))).mode & 0o777).toBe(0o700)
    expect((await stat(join(root, 'a'))).mode & 0o777).toBe(0o700)
    const [file] = await readdir(cache.dir)
    expect((await stat(join(cache.dir, file!))).mode & 0o777).toBe(0o600)
  })

  it('keeps keys such as "../" inside its directory: file names are sha-256 hex', async () => {
    const cache = tmpCache({ dir: join(root, 'inside') })
    const keys = ['../escape', '../../../../etc/passwd', '/abs', 'a/b\\c', '\u0000nul', '..']
    for (const key of keys) await cache.set(key, key)
    for (const key of keys) expect((await cache.get(key))?.toString()).toBe(key)
    expect((await readdir(root)).sort()).toEqual(['inside'])
    const files = await readdir(cache.dir)
    expect(files.sort()).toEqual(keys.map(fileNameOf).sort())
    for (const f of files) expect(f).toMatch(/^[0-9a-f]{64}$/)
  })

  it('uses <tmpdir>/warmstart-cache/<name> by default', async () => {
    const cache = tmpCache({ name: `t-${process.pid}` })
    expect(cache.dir).toBe(join(tmpdir(), 'warmstart-cache', `t-${process.pid}`))
    await cache.set('k', 'v')
    expect((await cache.get('k'))?.toString()).toBe('v')
    await rm(cache.dir, { recursive: true, force: true })
  })

  it('validates options and arguments', async () => {
    expect(() => tmpCache({ dir: 'relative' })).toThrow(/^tmpCache: option "dir" must be an absolute path/)
    expect(() => tmpCache({ name: '../x' })).toThrow(/option "name"/)
    expect(() => tmpCache({ name: '..' })).toThrow(/option "name"/)
    expect(() => tmpCache({ maxBytes: 0 })).toThrow(/option "maxBytes" must be more than 0/)
    expect(() => tmpCache({ maxBytes: '1 TB' as never })).toThrow(/option "maxBytes" must be a size/)
    expect(() => tmpCache({ ttl: 0 })).toThrow(/option "ttl" must be more than 0/)
    expect(() => tmpCache({ ttl: 'soon' as never })).toThrow(/option "ttl" must be a duration/)
    expect(() => tmpCache({ clock: {} as never })).toThrow(/option "clock"/)
    expect(() => tmpCache({ logger: {} as never })).toThrow(/option "logger"/)
    expect(() => tmpCache({ maxByte: '1mb' } as never)).toThrow(
      /^tmpCache: option "maxByte" is not an option \(did you mean "maxBytes"\?\); allowed: name, dir, maxBytes, ttl, clock, logger/,
    )
    expect(() => tmpCache({ tll: '5m' } as never)).toThrow(/did you mean "ttl"/)
    expect(() => tmpCache('fast' as never)).toThrow(/tmpCache: options must be an object/)
    expect(() => tmpCache({ maxBytes: '10240mb' })).not.toThrow()
    expect(() => tmpCache({ maxBytes: '10241mb' })).toThrow(/at most 10240mb, the largest \/tmp Lambda gives/)
    const cache = tmpCache({ dir: join(root, 'v') })
    await expect(cache.get(42 as never)).rejects.toThrow(WarmstartError)
    await expect(cache.get('x'.repeat(4097))).rejects.toThrow(/at most 4096 characters/)
    await expect(cache.getOrLoad(42 as never, () => 'v')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    await expect(cache.set('k', 42 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })
})

describe('integrity', () => {
  it.each([
    ['a flipped data byte', (b: Buffer) => Buffer.from(b.map((x, i) => (i === b.length - 1 ? x ^ 1 : x)))],
    ['a flipped key byte', (b: Buffer) => Buffer.from(b.map((x, i) => (i === HEADER ? x ^ 1 : x)))],
    ['a flipped createdAt byte', (b: Buffer) => Buffer.from(b.map((x, i) => (i === 9 ? x ^ 1 : x)))],
    ['a truncated file', (b: Buffer) => b.subarray(0, b.length - 3)],
    ['a truncated header', (b: Buffer) => b.subarray(0, 10)],
    ['a file of another key', () => Buffer.alloc(0)],
  ])('treats %s as a miss and removes the file', async (_, damage) => {
    const cache = tmpCache({ dir: join(root, 'i'), logger: { warn: () => {}, error: () => {} } })
    await cache.set('key', 'some content')
    await cache.set('other', 'other content')
    const path = join(cache.dir, fileNameOf('key'))
    const original = await readFile(path)
    const damaged =
      _ === 'a file of another key' ? await readFile(join(cache.dir, fileNameOf('other'))) : damage(original)
    await writeFile(path, damaged)
    expect(await cache.get('key')).toBeUndefined()
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(cache.stats()).toMatchObject({ corrupt: 1, misses: 1, entries: 1 })
    expect(recorder.events.filter((e) => e.type === 'tmp-cache.corrupt')).toHaveLength(1)
  })

  it('a file removed behind its back is a miss', async () => {
    const cache = tmpCache({ dir: join(root, 'gone') })
    await cache.set('key', 'v')
    await rm(join(cache.dir, fileNameOf('key')))
    expect(await cache.get('key')).toBeUndefined()
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 })
  })
})

describe('ttl', () => {
  it('serves an entry until its ttl has passed by the clock, then removes it', async () => {
    const clock = fakeClock()
    const cache = tmpCache({ dir: join(root, 't'), ttl: '5m', clock })
    await cache.set('k', 'v')
    clock.advance('4m')
    expect((await cache.get('k'))?.toString()).toBe('v')
    clock.advance('1m')
    expect(await cache.get('k')).toBeUndefined()
    expect(await readdir(cache.dir)).toEqual([])
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, evictions: 1, entries: 0 })
    expect(recorder.events.find((e) => e.type === 'tmp-cache.evict')).toMatchObject({ reason: 'expired' })
  })
})

describe('budget', () => {
  it('evicts the least recently used entries to stay under maxBytes', async () => {
    const entry = HEADER + 2 + 100
    const cache = tmpCache({ dir: join(root, 'b'), maxBytes: entry * 3 })
    const value = Buffer.alloc(100, 1)
    await cache.set('a', value)
    await cache.set('b', value)
    await cache.set('c', value)
    await cache.get('a')
    await cache.set('d', value)
    expect(await cache.get('b')).toBeUndefined()
    expect(await cache.get('a')).toBeDefined()
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: entry * 3, evictions: 1 })
    expect(recorder.events.find((e) => e.type === 'tmp-cache.evict')).toMatchObject({
      reason: 'size',
      file: fileNameOf('b'),
      bytes: entry,
    })
  })

  it('refuses a value larger than the budget with a typed error and keeps what it had', async () => {
    const cache = tmpCache({ dir: join(root, 'big'), maxBytes: 1000 })
    await cache.set('small', 'x')
    const error = await cache.set('huge', Buffer.alloc(2000)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TmpCacheTooLargeError)
    expect(error).toMatchObject({ code: 'ERR_TMP_CACHE_TOO_LARGE', bytes: HEADER + 8 + 2000, maxBytes: 1000 })
    const streamed = await cache
      .set('huge-stream', Readable.from([Buffer.alloc(600), Buffer.alloc(600), Buffer.alloc(600)]))
      .catch((e: unknown) => e)
    expect(streamed).toMatchObject({ code: 'ERR_TMP_CACHE_TOO_LARGE', maxBytes: 1000 })
    expect(await cache.get('huge-stream')).toBeUndefined()
    expect((await cache.get('small'))?.toString()).toBe('x')
    expect(await readdir(cache.dir)).toEqual([fileNameOf('small')])
    const longKey = await cache.set('k'.repeat(1000), '').catch((e: unknown) => e)
    expect(longKey).toBeInstanceOf(TmpCacheTooLargeError)
    const longKeyStream = await cache.set('k'.repeat(1000), chunks('')).catch((e: unknown) => e)
    expect(longKeyStream).toMatchObject({ bytes: HEADER + 2000 })
  })

  it('refuses a stream that delivers another size than it declared, and a size that is not one', async () => {
    const cache = tmpCache({ dir: join(root, 'declared') })
    await expect(cache.set('long', chunks('abc', 'def'), { size: 4 })).rejects.toMatchObject({
      code: 'ERR_TMP_CACHE_SIZE_MISMATCH',
      message: expect.stringContaining('declared as 4 bytes and delivered 6'),
    })
    await expect(cache.set('short', chunks('ab'), { size: 4 })).rejects.toMatchObject({
      code: 'ERR_TMP_CACHE_SIZE_MISMATCH',
    })
    await expect(cache.set('bad', chunks('ab'), { size: -1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    await cache.set('exact', chunks('ab', 'cd'), { size: 4 })
    expect((await cache.get('exact'))?.toString()).toBe('abcd')
    expect(await readdir(cache.dir)).toEqual([fileNameOf('exact')])
  })

  it('keeps its files on disk under maxBytes while a stream of unknown size arrives', async () => {
    const entry = HEADER + 2 + 10_000
    const maxBytes = entry * 10
    const cache = tmpCache({ dir: join(root, 'growing'), maxBytes })
    for (const key of 'abcdefghij') await cache.set(key, Buffer.alloc(10_000, 1))
    // A file evicted between the listing and its stat is gone: it counts for nothing.
    const onDisk = () =>
      readdirSync(cache.dir).reduce(
        (total, name) => total + (statSync(join(cache.dir, name), { throwIfNoEntry: false })?.size ?? 0),
        0,
      )
    const seen: number[] = []
    let sent = 0
    const body = new Readable({
      read() {
        seen.push(onDisk())
        if (sent === 8) this.push(null)
        else {
          sent++
          this.push(Buffer.alloc(10_000, 2))
        }
      },
    })
    await cache.set('stream', body)
    seen.push(onDisk())
    expect(Math.max(...seen)).toBeLessThanOrEqual(maxBytes)
    expect((await cache.get('stream'))?.equals(Buffer.alloc(80_000, 2))).toBe(true)
    expect(cache.stats().bytes).toBeLessThanOrEqual(maxBytes)
    // Made room for as it grew: the two entries used most recently are still there.
    expect((await cache.get('j'))?.length).toBe(10_000)
  })

  it('a stream that fails leaves nothing behind', async () => {
    const cache = tmpCache({ dir: join(root, 'fail') })
    const failing = new Readable({
      read() {
        this.destroy(new Error('network reset'))
      },
    })
    await expect(cache.set('k', failing)).rejects.toThrow('network reset')
    expect(await readdir(cache.dir)).toEqual([])
  })
})

describe('getOrLoad', () => {
  it('loads once for concurrent callers and stores the result', async () => {
    const cache = tmpCache({ dir: join(root, 'g') })
    let loads = 0
    const loader = async () => {
      loads++
      await new Promise((resolve) => setTimeout(resolve, 5))
      return 'model-bytes'
    }
    const results = await Promise.all([1, 2, 3].map(() => cache.getOrLoad('m', loader)))
    expect(results.map((r) => r.toString())).toEqual(['model-bytes', 'model-bytes', 'model-bytes'])
    expect(loads).toBe(1)
    expect((await cache.getOrLoad('m', loader)).toString()).toBe('model-bytes')
    expect(loads).toBe(1)
    expect((await cache.getOrLoad('s', () => chunks('st', 'ream'))).toString()).toBe('stream')
    expect((await cache.getOrLoad('u', () => new Uint8Array([7]))).at(0)).toBe(7)
  })

  it('does not cache a failed load', async () => {
    const cache = tmpCache({ dir: join(root, 'gf') })
    await expect(cache.getOrLoad('k', () => Promise.reject(new Error('download failed')))).rejects.toThrow(
      'download failed',
    )
    expect((await cache.getOrLoad('k', () => 'second try')).toString()).toBe('second try')
  })
})

describe('across restarts', () => {
  it('rebuilds its index from disk, least recently used first, and lists its keys for the leak guard', async () => {
    const dir = join(root, 'r')
    const first = tmpCache({ dir, name: 'models' })
    await first.set('user-123', 'a')
    await first.set('user-456', 'b')
    const entry = HEADER + 16 + 1
    const second = tmpCache({ dir, name: 'models', maxBytes: entry * 2 })
    expect((await second.get('user-123'))?.toString()).toBe('a')
    expect(second.stats()).toMatchObject({ entries: 2, bytes: entry * 2 })
    await second.set('user-789', 'c')
    expect(await second.get('user-456')).toBeUndefined()
    const root2 = longLivedRoots().find((r) => r.name.startsWith('tmp:models') && r.target() === second)
    expect([...(root2?.entries() ?? [])].map(([key]) => key).sort()).toEqual(['user-123', 'user-789'])
  })

  it('gives the leak guard a revision that changes when an entry is added, not when one is read', async () => {
    const cache = tmpCache({ dir: join(root, 'revision'), name: 'revision' })
    const entry = longLivedRoots().find((r) => r.target() === cache)
    const start = entry?.revision()
    await cache.set('user-1', 'a')
    const written = entry?.revision()
    expect(written).not.toBe(start)
    await cache.get('user-1')
    await cache.delete('user-1')
    expect(entry?.revision()).toBe(written)
  })

  it('removes temp files of dead writers and corrupt entries, keeps live ones', async () => {
    const dir = join(root, 'temps')
    const seed = tmpCache({ dir })
    await seed.set('k', 'v')
    const hash = fileNameOf('x')
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid
    const start = Math.round(performance.timeOrigin)
    const dead = `${hash}.${deadPid}-1-0-aa.tmp`
    const oldSelf = `${hash}.${process.pid}-${start - 1}-0-bb.tmp`
    const liveSelf = `${hash}.${process.pid}-${start}-0-cc.tmp`
    const liveOther = `${hash}.${process.ppid}-1-0-dd.tmp`
    for (const name of [dead, oldSelf, liveSelf, liveOther]) await writeFile(join(dir, name), 'partial')
    await writeFile(join(dir, fileNameOf('bad')), 'not an entry')
    await writeFile(join(dir, 'README.txt'), 'not ours')
    const fresh = tmpCache({ dir })
    expect(await fresh.get('k')).toBeDefined()
    expect((await readdir(dir)).sort()).toEqual([fileNameOf('k'), liveSelf, liveOther, 'README.txt'].sort())
    expect(fresh.stats()).toMatchObject({ entries: 1, corrupt: 1 })
    expect(recorder.events.find((e) => e.type === 'tmp-cache.cleanup' && e.tempFiles === 2)).toBeDefined()
  })

  it('fails clearly when the directory cannot be made, and tries again', async () => {
    const blocker = join(root, 'file')
    await writeFile(blocker, '')
    const cache = tmpCache({ dir: join(blocker, 'sub') })
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'ENOTDIR' })
    await expect(cache.set('k', 'v')).rejects.toMatchObject({ code: 'ENOTDIR' })
    // A failed start is not kept: once the blocker is gone, the next call starts afresh.
    await rm(blocker)
    await cache.set('k', 'v')
    expect((await cache.get('k'))?.toString()).toBe('v')
  })
})
