import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TmpCacheNoSpaceError, tmpCache } from '@warmstart/tmp-cache'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

// A file system that is nearly full cannot be made here without root and a tmpfs mount, so only
// the free-space figure is faked; every file operation is real.
const space = vi.hoisted(() => ({ free: Number.POSITIVE_INFINITY }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>()
  return {
    ...real,
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
})
