import { mkdtemp, readdir, rm } from 'node:fs/promises'
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
}))
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>()
  return {
    ...real,
    // The disk filling up in the middle of a stream: the write fails as the kernel would fail it.
    open: async (...args: Parameters<typeof real.open>) => {
      const file = await real.open(...args)
      const code = space.writeError
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

  it('refuses a value the file system cannot hold even when empty', async () => {
    const cache = tmpCache({ dir: root, maxBytes: '1mb' })
    await cache.set('a', Buffer.alloc(10))
    space.free = 100
    const error = await cache.set('big', Buffer.alloc(500)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TmpCacheNoSpaceError)
    expect(error).toMatchObject({ code: 'ERR_TMP_CACHE_NO_SPACE' })
    expect(cache.stats().entries).toBe(0)
  })

  it('turns a full disk in the middle of a write into a typed error and leaves no file', async () => {
    const cache = tmpCache({ dir: root })
    await cache.set('a', 'kept')
    space.writeError = 'ENOSPC'
    const error = await cache.set('b', Readable.from([Buffer.alloc(10)])).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TmpCacheNoSpaceError)
    expect((error as Error).cause).toMatchObject({ code: 'ENOSPC' })
    const other = await cache.set('c', 'x').catch((e: unknown) => e)
    expect(other).toMatchObject({ code: 'ERR_TMP_CACHE_NO_SPACE' })
    space.writeError = 'EIO'
    await expect(cache.set('d', 'x')).rejects.toMatchObject({ code: 'EIO' })
    space.writeError = undefined
    expect((await cache.get('a'))?.toString()).toBe('kept')
    expect(await readdir(root)).toHaveLength(1)
  })
})
