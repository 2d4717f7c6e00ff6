import { execFileSync } from 'node:child_process'
import { lstat, mkdir, mkdtemp, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { recordEvents } from '@warmstart/testing/doubles'
import { TmpCacheNotAFileError, tmpCache } from '@warmstart/tmp-cache'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fileNameOf } from '../src/entry-file.js'

// Only regular files are ever opened: before this, a FIFO at an entry's name made `get` (and a
// restart) wait forever, and a symlink to /dev/zero was read without limit.
let root: string
let recorder: ReturnType<typeof recordEvents>
const quiet = { warn: () => {}, error: () => {} }

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tmp-cache-odd-'))
  recorder = recordEvents('tmp-cache.')
})

afterEach(async () => {
  recorder.stop()
  await rm(root, { recursive: true, force: true })
})

const corrupt = () => recorder.events.filter((e) => e.type === 'tmp-cache.corrupt')

describe('something other than a regular file at an entry name', () => {
  it('a FIFO is removed unread, by get and by a restart: nothing waits for a writer', async () => {
    const cache = tmpCache({ dir: join(root, 'f'), logger: quiet })
    await cache.set('other', 'v')
    const path = join(cache.dir, fileNameOf('k'))
    execFileSync('mkfifo', [path])
    expect(await cache.get('k')).toBeUndefined()
    await expect(lstat(path)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(corrupt()[0]).toMatchObject({ reason: 'not a regular file (a FIFO)', removed: true })
    execFileSync('mkfifo', [path])
    const restarted = tmpCache({ dir: cache.dir, logger: quiet })
    expect((await restarted.get('other'))?.toString()).toBe('v')
    await expect(lstat(path)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(restarted.stats()).toMatchObject({ entries: 1, corrupt: 1 })
  })

  it('a symlink (to /dev/zero) is never followed: the link is removed, nothing is read', async () => {
    const cache = tmpCache({ dir: join(root, 's'), logger: quiet })
    await cache.set('k', 'v')
    const path = join(cache.dir, fileNameOf('k'))
    await rm(path)
    await symlink('/dev/zero', path)
    const rss = process.memoryUsage.rss()
    expect(await cache.get('k')).toBeUndefined()
    expect(process.memoryUsage.rss() - rss).toBeLessThan(64 * 1024 * 1024)
    await expect(lstat(path)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(corrupt()[0]).toMatchObject({ reason: 'not a regular file (a symbolic link)', removed: true })
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0, corrupt: 1 })
    await cache.set('k', 'again')
    expect((await cache.get('k'))?.toString()).toBe('again')
  })

  it('an empty directory is removed; a set over one succeeds', async () => {
    const cache = tmpCache({ dir: join(root, 'd'), logger: quiet })
    await cache.set('seed', 'v')
    await mkdir(join(cache.dir, fileNameOf('k')))
    await cache.set('k', 'stored')
    expect((await cache.get('k'))?.toString()).toBe('stored')
    await rm(join(cache.dir, fileNameOf('k')))
    await mkdir(join(cache.dir, fileNameOf('k')))
    expect(await cache.get('k')).toBeUndefined()
    await expect(lstat(join(cache.dir, fileNameOf('k')))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(corrupt().map((e) => e.reason)).toEqual(['a directory', 'not a regular file (a directory)'])
  })

  it('a directory that is not empty is reported, with a typed error on set, and never read', async () => {
    const cache = tmpCache({ dir: join(root, 'n'), logger: quiet })
    const path = join(cache.dir, fileNameOf('k'))
    await mkdir(path, { recursive: true })
    await writeFile(join(path, 'inside'), 'x')
    const error = await cache.set('k', 'v').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TmpCacheNotAFileError)
    expect(error).toMatchObject({ code: 'ERR_TMP_CACHE_NOT_A_FILE' })
    expect(await cache.get('k')).toBeUndefined()
    expect(corrupt().at(-1)).toMatchObject({ removed: false })
    expect((await readdir(cache.dir)).filter((n) => n.endsWith('.tmp'))).toEqual([])
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 })
    await rm(join(path, 'inside'))
    await cache.set('k', 'v')
    expect((await cache.get('k'))?.toString()).toBe('v')
  })

  it('a socket is removed unread', async () => {
    const cache = tmpCache({ dir: join(root, 'sock'), logger: quiet })
    await cache.set('seed', 'v')
    const path = join(cache.dir, fileNameOf('k'))
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(path, resolve))
    try {
      expect(await cache.get('k')).toBeUndefined()
      expect(corrupt()[0]).toMatchObject({ reason: 'not a regular file (a socket)', removed: true })
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it("rejects with the file system's own error when the directory itself is replaced by a file", async () => {
    const cache = tmpCache({ dir: join(root, 'gone'), logger: quiet })
    await cache.set('k', 'v')
    await rm(cache.dir, { recursive: true })
    await writeFile(cache.dir, 'not a directory')
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'ENOTDIR' })
  })

  it('a file shorter than its header says (truncated meanwhile) is corrupt, not served', async () => {
    const cache = tmpCache({ dir: join(root, 'short'), logger: quiet })
    await cache.set('k', 'some value')
    await truncate(join(cache.dir, fileNameOf('k')), 60)
    expect(await cache.get('k')).toBeUndefined()
    expect(corrupt()[0]).toMatchObject({ reason: 'wrong size' })
  })

  it('a file larger than the budget is removed without being read', async () => {
    const cache = tmpCache({ dir: join(root, 'big'), maxBytes: '1mb', logger: quiet })
    await cache.set('k', 'v')
    // Sparse: 8 GB that reading would bring into memory.
    await truncate(join(cache.dir, fileNameOf('k')), 8 * 1024 ** 3)
    const rss = process.memoryUsage.rss()
    expect(await cache.get('k')).toBeUndefined()
    expect(process.memoryUsage.rss() - rss).toBeLessThan(64 * 1024 * 1024)
    expect(corrupt()[0]).toMatchObject({ reason: 'larger than maxBytes' })
    expect(await readdir(cache.dir)).toEqual([])
  })
})
