import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { TmpCacheNoSpaceError, tmpCache } from '@warmstart/tmp-cache'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

// A real full disk: a 2 MB tmpfs, mounted for this file. Mounting needs root (and a kernel that
// lets the container mount tmpfs); without either, the tests are skipped, and the reason is the
// describe's title. free-space.test.ts covers the same logic with the free-space figure faked.
const mountPoint = await mkdtemp(join(tmpdir(), 'tmp-cache-tmpfs-'))
const mounted =
  process.getuid?.() === 0 &&
  spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mountPoint]).status === 0
const title = mounted
  ? 'on a full 2 MB tmpfs'
  : 'on a full 2 MB tmpfs (skipped: mounting a tmpfs needs root and a kernel that allows it)'

afterAll(async () => {
  if (mounted) spawnSync('umount', [mountPoint])
  await rm(mountPoint, { recursive: true, force: true })
})

const KB = 1024

async function onDisk(dir: string): Promise<number> {
  const names = await readdir(dir)
  expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([])
  const sizes = await Promise.all(names.map(async (n) => (await stat(join(dir, n))).size))
  return sizes.reduce((a, b) => a + b, 0)
}

describe.skipIf(!mounted)(title, () => {
  let dir: string
  let run = 0
  beforeAll(() => {
    expect(mounted).toBe(true)
  })
  beforeEach(async () => {
    dir = join(mountPoint, `c${run++}`)
    // The mount is shared by the tests: each starts on an empty disk.
    for (const name of await readdir(mountPoint))
      await rm(join(mountPoint, name), { recursive: true, force: true })
  })

  // maxBytes far above the disk, as when /tmp is shared with other files: the disk is the bound.
  const cacheIn = (d: string) => tmpCache({ dir: d, maxBytes: '100mb' })

  it('evicts least recently used entries for a buffer that needs the room, and serves it whole', async () => {
    const cache = cacheIn(dir)
    for (const key of ['a', 'b', 'c', 'd']) await cache.set(key, Buffer.alloc(400 * KB, key))
    const value = Buffer.alloc(700 * KB, 'e')
    await cache.set('e', value)
    expect((await cache.get('e'))?.equals(value)).toBe(true)
    expect(await cache.get('a')).toBeUndefined()
    expect(cache.stats().evictions).toBeGreaterThan(0)
    expect(cache.stats().bytes).toBe(await onDisk(dir))
  })

  it('refuses a value larger than the disk before evicting anything, saying how big it was and what was free', async () => {
    const cache = cacheIn(dir)
    for (const key of ['a', 'b']) await cache.set(key, Buffer.alloc(300 * KB, key))
    const error = await cache.set('huge', Buffer.alloc(3 * 1024 * KB)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TmpCacheNoSpaceError)
    const { bytes, free } = error as TmpCacheNoSpaceError
    expect(bytes).toBe(56 + 8 + 3 * 1024 * KB)
    const fs = await statfs(mountPoint)
    expect(free).toBe(fs.bavail * fs.bsize)
    expect((error as Error).message).toContain(`${bytes} bytes (${free} bytes free`)
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 0 })
    expect((await cache.get('a'))?.length).toBe(300 * KB)
    const declared = await cache
      .set('huge-stream', Readable.from([Buffer.alloc(3 * 1024 * KB)]), { size: 3 * 1024 * KB })
      .catch((e: unknown) => e)
    expect(declared).toBeInstanceOf(TmpCacheNoSpaceError)
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 0 })
    expect(cache.stats().bytes).toBe(await onDisk(dir))
  })

  it('makes room for a stream of unknown size as the disk fills: the kernel short write is finished, not lost', async () => {
    const cache = cacheIn(dir)
    for (const key of ['a', 'b', 'c']) await cache.set(key, Buffer.alloc(500 * KB, key))
    const parts = Array.from({ length: 10 }, (_, i) => Buffer.alloc(100 * KB, i))
    await cache.set('stream', Readable.from(parts))
    expect((await cache.get('stream'))?.equals(Buffer.concat(parts))).toBe(true)
    expect(cache.stats().evictions).toBeGreaterThan(0)
    expect(cache.stats().bytes).toBe(await onDisk(dir))
  })

  it('a disk filled by someone else: the set fails typed, nothing half-stored, the count still true', async () => {
    const cache = cacheIn(dir)
    await cache.set('a', Buffer.alloc(100 * KB, 'a'))
    const fs = await statfs(mountPoint)
    // Everything but 64 KB taken by a file that is not the cache's.
    await writeFile(join(mountPoint, 'filler'), Buffer.alloc(fs.bavail * fs.bsize - 64 * KB, 1))
    const error = await cache
      .set('b', Readable.from([Buffer.alloc(300 * KB, 'b'), Buffer.alloc(300 * KB, 'b')]))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TmpCacheNoSpaceError)
    expect(await cache.get('b')).toBeUndefined()
    expect(cache.stats().bytes).toBe(await onDisk(dir))
    await rm(join(mountPoint, 'filler'))
    await cache.set('b', Buffer.alloc(600 * KB, 'b'))
    expect((await cache.get('b'))?.length).toBe(600 * KB)
  })
})
