import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { TmpCacheNoSpaceError, tmpCache } from '@warmstart/tmp-cache'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

// A file system that is nearly full cannot be made here without root and a tmpfs mount, so only
// the free-space figure is faked; every file operation is real.
const space = vi.hoisted(() => ({
  free: Number.POSITIVE_INFINITY,
  writeError: undefined as string | undefined,
  /** At most this many bytes per write call, as a file system near full does; 0: none at all. */
  shortWrites: undefined as number | undefined,
  /** Which step of flushing the file fails with ENOSPC: with delayed allocation the blocks are taken at write-back. */
  flushError: undefined as 'sync' | 'close' | undefined,
}))
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>()
  return {
    ...real,
    // The disk filling up in the middle of a stream: the write fails as the kernel would fail it.
    open: async (...args: Parameters<typeof real.open>) => {
      const file = await real.open(...args)
      const flush = space.flushError
      if (flush !== undefined) {
        const noSpace = () =>
          Object.assign(new Error(`ENOSPC: no space left on device, ${flush}`), { code: 'ENOSPC' })
        const close = file.close.bind(file)
        // A close that fails has still released the descriptor (close(2) on Linux): so does this one.
        return Object.assign(
          file,
          flush === 'sync'
            ? { sync: async () => Promise.reject(noSpace()) }
            : { close: async () => close().then(() => Promise.reject(noSpace())) },
        )
      }
      const code = space.writeError
      const short = space.shortWrites
      if (short !== undefined) {
        const write = file.write.bind(file) as (...a: unknown[]) => Promise<{ bytesWritten: number }>
        return Object.assign(file, {
          write: async (buffer: Buffer, offset: number, length: number, position: number) =>
            short === 0
              ? { bytesWritten: 0, buffer }
              : write(buffer, offset, Math.min(length, short), position),
        })
      }
      if (code === undefined) return file
      return Object.assign(file, {
        write: async () => {
          throw Object.assign(new Error(`${code}: write failed`), { code })
        },
      })
    },
    statfs: async (path: string) => {
      const fs = await real.statfs(path)
      return Number.isFinite(space.free) ? { ...fs, bavail: space.free, bsize: 1 } : fs
    },
  }
})

describe('free space', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tmp-cache-space-'))
    space.free = Number.POSITIVE_INFINITY
    space.writeError = undefined
    space.shortWrites = undefined
    space.flushError = undefined
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('evicts least recently used entries until the file system has room', async () => {
    const cache = tmpCache({ dir: root, maxBytes: '1mb' })
    await cache.set('a', Buffer.alloc(100))
    await cache.set('b', Buffer.alloc(100))
    space.free = 50
    await cache.set('c', Buffer.alloc(100))
    // 50 free + the 157 bytes of 'a', the least recently used, is room enough for 'c'.
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1 })
    expect(await readdir(root)).toHaveLength(2)
    expect(await cache.get('a')).toBeUndefined()
    expect((await cache.get('c'))?.length).toBe(100)
  })

  it('refuses a value the file system cannot hold even when empty, before evicting anything', async () => {
    const cache = tmpCache({ dir: root, maxBytes: '1mb' })
    await cache.set('a', Buffer.alloc(10))
    space.free = 100
    const error = await cache.set('big', Buffer.alloc(500)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TmpCacheNoSpaceError)
    // 56 + 6 bytes of header and key, 500 of data; 100 free, and the 68 of 'a' would not make up the rest.
    expect(error).toMatchObject({ code: 'ERR_TMP_CACHE_NO_SPACE', bytes: 562, free: 100 })
    expect((error as Error).message).toMatch(/a value of 562 bytes \(100 bytes free/)
    expect(cache.stats()).toMatchObject({ entries: 1, evictions: 0 })
    expect((await cache.get('a'))?.length).toBe(10)
  })

  it('makes room for a stream of declared size before writing, and refuses one that cannot fit first', async () => {
    const cache = tmpCache({ dir: root, maxBytes: '1mb' })
    await cache.set('a', Buffer.alloc(100))
    await cache.set('b', Buffer.alloc(100))
    space.free = 50
    await cache.set('c', Readable.from([Buffer.alloc(60), Buffer.alloc(40)]), { size: 100 })
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1 })
    expect(await cache.get('a')).toBeUndefined()
    space.free = 10
    const error = await cache
      .set('huge', Readable.from([Buffer.alloc(1000)]), { size: 1000 })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_TMP_CACHE_NO_SPACE', bytes: 56 + 8 + 1000, free: 10 })
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1 })
  })

  it('turns a full disk in the middle of a write into eviction, then a typed error, and leaves no file', async () => {
    const cache = tmpCache({ dir: root })
    await cache.set('a', 'evicted for room')
    space.writeError = 'ENOSPC'
    const error = await cache.set('b', Readable.from([Buffer.alloc(10)])).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TmpCacheNoSpaceError)
    expect((error as Error).cause).toMatchObject({ code: 'ENOSPC' })
    // The disk said no: the least recently used entry went to make room, and that was not enough.
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0, evictions: 1 })
    const other = await cache.set('c', 'x').catch((e: unknown) => e)
    expect(other).toMatchObject({ code: 'ERR_TMP_CACHE_NO_SPACE' })
    space.writeError = 'EIO'
    await expect(cache.set('d', 'x')).rejects.toMatchObject({ code: 'EIO' })
    space.writeError = undefined
    expect(await readdir(root)).toEqual([])
    await cache.set('e', 'fine again')
    expect((await cache.get('e'))?.toString()).toBe('fine again')
  })

  it.each(['sync', 'close'] as const)(
    'fails typed when the file system reports no room at %s (delayed allocation), and leaves no file',
    async (step) => {
      const cache = tmpCache({ dir: root })
      await cache.set('a', 'kept')
      space.flushError = step
      const error = await cache.set('b', Buffer.alloc(100)).catch((e: unknown) => e)
      const streamed = await cache.set('c', Readable.from([Buffer.alloc(10)])).catch((e: unknown) => e)
      space.flushError = undefined
      expect(error).toBeInstanceOf(TmpCacheNoSpaceError)
      expect(error).toMatchObject({ code: 'ERR_TMP_CACHE_NO_SPACE', bytes: 56 + 2 + 100 })
      expect((error as Error).cause).toMatchObject({ code: 'ENOSPC' })
      expect((error as Error).message).toContain(`at ${step === 'sync' ? 'fsync' : 'close'}`)
      expect(streamed).toBeInstanceOf(TmpCacheNoSpaceError)
      expect(await readdir(root)).toHaveLength(1)
      expect(cache.stats()).toMatchObject({ entries: 1, evictions: 0 })
      expect((await cache.get('a'))?.toString()).toBe('kept')
      await cache.set('b', 'fine again')
      expect((await cache.get('b'))?.toString()).toBe('fine again')
    },
  )

  it('finishes a write the file system takes in short pieces: a set that resolves has stored its value', async () => {
    const cache = tmpCache({ dir: root })
    space.shortWrites = 7
    const value = Buffer.from(`${'x'.repeat(50)}the end`)
    await cache.set('k', value)
    await cache.set('s', Readable.from([value, value]))
    space.shortWrites = undefined
    expect((await cache.get('k'))?.equals(value)).toBe(true)
    expect((await cache.get('s'))?.equals(Buffer.concat([value, value]))).toBe(true)
    const sizes = await Promise.all((await readdir(root)).map(async (f) => (await stat(join(root, f))).size))
    expect(cache.stats().bytes).toBe(sizes.reduce((a, b) => a + b, 0))
  })

  it('fails typed when the file system takes nothing and the cache has nothing to give', async () => {
    const cache = tmpCache({ dir: root })
    space.shortWrites = 0
    const error = await cache.set('k', 'value').catch((e: unknown) => e)
    space.shortWrites = undefined
    expect(error).toBeInstanceOf(TmpCacheNoSpaceError)
    expect(await readdir(root)).toEqual([])
  })
})
