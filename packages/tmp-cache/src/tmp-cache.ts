import { mkdir, open, readdir, readFile, stat, statfs, unlink, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { buffer } from 'node:stream/consumers'
import { emit, registerRoot, WarmstartError } from '@warmstart/core'
import {
  type CacheValue,
  checkContent,
  ENTRY_NAME,
  EntryLimitExceeded,
  FIXED_HEADER_BYTES,
  fileNameOf,
  isAbandonedTemp,
  MAX_KEY_BYTES,
  parseHeader,
  TEMP_NAME,
  toBuffer,
  writeEntryFile,
} from './entry-file.js'
import { TmpCacheNoSpaceError, TmpCacheTooLargeError } from './errors.js'
import { KeyedLock } from './keyed-lock.js'
import { type ResolvedOptions, resolveOptions, type TmpCacheOptions } from './options.js'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    /** Keys are named by their sha-256 (`file`), never as given: they may be user ids. */
    'tmp-cache.hit': { cache: string; file: string }
    'tmp-cache.miss': { cache: string; file: string }
    'tmp-cache.evict': { cache: string; file: string; bytes: number; reason: 'size' | 'space' | 'expired' }
    /** A file failed its check (size, key or sha-256) and was deleted instead of served. */
    'tmp-cache.corrupt': { cache: string; file: string; reason: string }
    /** At start: temp files of writers that died mid-write were removed. */
    'tmp-cache.cleanup': { cache: string; tempFiles: number; entries: number; bytes: number }
  }
}

export interface TmpCacheStats {
  readonly hits: number
  readonly misses: number
  readonly evictions: number
  readonly entries: number
  readonly bytes: number
  /** Files that failed their check and were deleted. */
  readonly corrupt: number
}

interface IndexEntry {
  readonly key: string
  readonly bytes: number
  readonly createdAt: number
}

/**
 * Lambda's /tmp as a bounded, crash-safe cache of files. See `tmpCache()`.
 */
export class TmpCache {
  readonly #options: ResolvedOptions
  /** By file name, least recently used first. Keeps the keys as given, for the leak guard. */
  readonly #index = new Map<string, IndexEntry>()
  // Bumped on every entry added, so the leak guard can skip a cache that gained nothing since it last read it clean.
  #writes = 0
  readonly #locks = new KeyedLock()
  readonly #loading = new Map<string, Promise<Buffer>>()
  #ready: Promise<void> | undefined
  #bytes = 0
  #hits = 0
  #misses = 0
  #evictions = 0
  #corrupt = 0

  constructor(options: TmpCacheOptions = {}) {
    this.#options = resolveOptions(options)
    registerRoot(`tmp:${this.#options.name}`, this, TmpCache.#inspect, { revision: (cache) => cache.#writes })
  }

  static *#inspect(cache: TmpCache): Iterable<readonly [unknown, unknown]> {
    for (const entry of cache.#index.values()) {
      yield [entry.key, { bytes: entry.bytes, createdAt: entry.createdAt }] as const
    }
  }

  /** The directory the files live in. */
  get dir(): string {
    return this.#options.dir
  }

  /** The value stored under `key`, checked against its size and sha-256; undefined when missing, expired or corrupt. */
  async get(key: string): Promise<Buffer | undefined> {
    const fileName = this.#fileName(key)
    await this.#start()
    const data = await this.#read(fileName)
    if (data === undefined) {
      this.#misses++
      emit('tmp-cache.miss', { cache: this.#options.name, file: fileName })
      return undefined
    }
    this.#hits++
    emit('tmp-cache.hit', { cache: this.#options.name, file: fileName })
    return data
  }

  /**
   * Stores a value (bytes, a string as UTF-8, or a readable stream) crash-safely: a timeout, a
   * freeze or a kill in the middle never leaves a file that a later `get` serves. Evicts the
   * least recently used entries to stay under `maxBytes` and under the free space of the file
   * system. Rejects with `TmpCacheTooLargeError` when the value alone exceeds `maxBytes`.
   */
  async set(key: string, value: CacheValue): Promise<void> {
    const fileName = this.#fileName(key)
    if (!isCacheValue(value)) {
      throw new WarmstartError(
        'ERR_INVALID_ARGUMENT',
        `tmpCache "${this.#options.name}": a value must be a Buffer, a Uint8Array, a string or a readable stream`,
      )
    }
    await this.#start()
    await this.#locks.run(fileName, () => this.#write(fileName, key, value))
  }

  /**
   * The value under `key`, or the loader's result stored then returned. Concurrent calls for one
   * key share one load. A loader's failure is not cached.
   */
  getOrLoad(key: string, loader: () => CacheValue | Promise<CacheValue>): Promise<Buffer> {
    let fileName: string
    try {
      fileName = this.#fileName(key)
    } catch (error) {
      return Promise.reject(error)
    }
    const inFlight = this.#loading.get(fileName)
    if (inFlight !== undefined) return inFlight
    const load = (async () => {
      const cached = await this.get(key)
      if (cached !== undefined) return cached
      const value = await loader()
      // The caller gets the bytes in memory anyway: a stream is read once, then stored.
      const bytes =
        typeof value === 'string' || value instanceof Uint8Array ? toBuffer(value) : await buffer(value)
      await this.set(key, bytes)
      return bytes
    })().finally(() => {
      this.#loading.delete(fileName)
    })
    this.#loading.set(fileName, load)
    return load
  }

  /** Removes `key`; true when something was stored under it. */
  async delete(key: string): Promise<boolean> {
    const fileName = this.#fileName(key)
    await this.#start()
    return this.#locks.run(fileName, async () => {
      this.#forget(fileName)
      return removeFile(join(this.#options.dir, fileName))
    })
  }

  stats(): TmpCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      entries: this.#index.size,
      bytes: this.#bytes,
      corrupt: this.#corrupt,
    }
  }

  #fileName(key: string): string {
    if (typeof key !== 'string' || Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
      throw new WarmstartError(
        'ERR_INVALID_ARGUMENT',
        `tmpCache "${this.#options.name}": a key must be a string of at most ${MAX_KEY_BYTES} bytes`,
      )
    }
    return fileNameOf(key)
  }

  /** Creates the directory and rebuilds the index from disk, once; retried after a failure. */
  #start(): Promise<void> {
    this.#ready ??= this.#rebuild().catch((error: unknown) => {
      this.#ready = undefined
      throw error
    })
    return this.#ready
  }

  async #rebuild(): Promise<void> {
    const { dir } = this.#options
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const found: { fileName: string; entry: IndexEntry; usedAt: number }[] = []
    let tempFiles = 0
    const now = Date.now()
    for (const name of await readdir(dir)) {
      const path = join(dir, name)
      const temp = TEMP_NAME.exec(name)
      if (temp !== null) {
        const info = await stat(path).catch(() => undefined)
        if (info !== undefined && isAbandonedTemp(temp, info.mtimeMs, now) && (await removeFile(path)))
          tempFiles++
        continue
      }
      if (!ENTRY_NAME.test(name)) continue
      const header = await readHeaderOf(path)
      if (header === undefined) continue
      const { parsed, size, mtimeMs } = header
      if (
        parsed === undefined ||
        size !== parsed.headerBytes + parsed.dataLength ||
        fileNameOf(parsed.key) !== name
      ) {
        await this.#discardCorrupt(name, 'bad header')
        continue
      }
      found.push({
        fileName: name,
        entry: { key: parsed.key, bytes: size, createdAt: parsed.createdAt },
        usedAt: mtimeMs,
      })
    }
    found.sort((a, b) => a.usedAt - b.usedAt)
    for (const { fileName, entry } of found) this.#remember(fileName, entry)
    await this.#trim(undefined)
    emit('tmp-cache.cleanup', {
      cache: this.#options.name,
      tempFiles,
      entries: this.#index.size,
      bytes: this.#bytes,
    })
  }

  /** Reads and checks a file; drops it when it is corrupt or expired. Counts nothing. */
  async #read(fileName: string): Promise<Buffer | undefined> {
    const path = join(this.#options.dir, fileName)
    let bytes: Buffer
    try {
      bytes = await readFile(path)
    } catch {
      this.#forget(fileName)
      return undefined
    }
    const content = checkContent(fileName, bytes)
    if (typeof content === 'string') {
      await this.#discardCorrupt(fileName, content)
      return undefined
    }
    const { ttlMs, clock } = this.#options
    if (ttlMs !== undefined && clock.now() - content.createdAt >= ttlMs) {
      await this.#evict(fileName, 'expired', bytes.length)
      return undefined
    }
    // Most recently used: last in the index, and on disk (mtime) for the next rebuild.
    this.#forget(fileName)
    this.#remember(fileName, { key: content.key, bytes: bytes.length, createdAt: content.createdAt })
    const usedAt = new Date()
    await utimes(path, usedAt, usedAt).catch(() => {})
    return content.data
  }

  async #write(fileName: string, key: string, value: CacheValue): Promise<void> {
    const { dir, maxBytes, name, clock } = this.#options
    const minimum = FIXED_HEADER_BYTES + Buffer.byteLength(key, 'utf8')
    const knownSize =
      typeof value === 'string' || value instanceof Uint8Array ? minimum + toBuffer(value).length : undefined
    if ((knownSize ?? minimum) > maxBytes)
      throw new TmpCacheTooLargeError(name, knownSize ?? minimum, maxBytes)
    if (knownSize !== undefined) await this.#makeRoom(knownSize)
    const createdAt = clock.now()
    let bytes: number
    try {
      bytes = await writeEntryFile(dir, fileName, key, createdAt, value, maxBytes)
    } catch (error) {
      if (error instanceof EntryLimitExceeded) throw new TmpCacheTooLargeError(name, error.bytes, maxBytes)
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new TmpCacheNoSpaceError(name, knownSize ?? minimum, { cause: error })
      }
      throw error
    }
    this.#forget(fileName)
    this.#remember(fileName, { key, bytes, createdAt })
    this.#writes++
    await this.#trim(fileName)
  }

  /** Evicts least recently used entries until `bytes` more fit in the budget and on the file system. */
  async #makeRoom(bytes: number): Promise<void> {
    const { maxBytes, dir, name } = this.#options
    while (this.#bytes + bytes > maxBytes && this.#index.size > 0) await this.#evictOldest('size', undefined)
    const fs = await statfs(dir)
    let free = fs.bavail * fs.bsize
    while (free < bytes && this.#index.size > 0) free += await this.#evictOldest('space', undefined)
    if (free < bytes) throw new TmpCacheNoSpaceError(name, bytes)
  }

  /** Evicts least recently used entries, `keep` excepted, until the budget holds. */
  async #trim(keep: string | undefined): Promise<void> {
    // An entry alone never exceeds maxBytes, so evicting all but `keep` always ends the loop.
    let freed = 1
    while (this.#bytes > this.#options.maxBytes && freed > 0) freed = await this.#evictOldest('size', keep)
  }

  async #evictOldest(reason: 'size' | 'space', keep: string | undefined): Promise<number> {
    for (const [fileName, entry] of this.#index) {
      if (fileName === keep) continue
      await this.#evict(fileName, reason, entry.bytes)
      return entry.bytes
    }
    return 0
  }

  async #evict(fileName: string, reason: 'size' | 'space' | 'expired', bytes: number): Promise<void> {
    this.#forget(fileName)
    await removeFile(join(this.#options.dir, fileName))
    this.#evictions++
    emit('tmp-cache.evict', { cache: this.#options.name, file: fileName, bytes, reason })
  }

  async #discardCorrupt(fileName: string, reason: string): Promise<void> {
    this.#forget(fileName)
    this.#corrupt++
    emit('tmp-cache.corrupt', { cache: this.#options.name, file: fileName, reason })
    this.#options.logger?.warn('tmp-cache.corrupt', { cache: this.#options.name, file: fileName, reason })
    await removeFile(join(this.#options.dir, fileName))
  }

  #remember(fileName: string, entry: IndexEntry): void {
    this.#index.set(fileName, entry)
    this.#bytes += entry.bytes
  }

  #forget(fileName: string): void {
    const entry = this.#index.get(fileName)
    if (entry === undefined) return
    this.#index.delete(fileName)
    this.#bytes -= entry.bytes
  }
}

/** Creates a cache in Lambda's /tmp (or `dir`): see `TmpCacheOptions`. */
export function tmpCache(options: TmpCacheOptions = {}): TmpCache {
  return new TmpCache(options)
}

function isCacheValue(value: unknown): value is CacheValue {
  if (typeof value === 'string' || value instanceof Uint8Array) return true
  return (
    typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function'
  )
}

/** Deletes a file; true when it existed. */
async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path)
    return true
  } catch {
    return false
  }
}

async function readHeaderOf(
  path: string,
): Promise<{ parsed: ReturnType<typeof parseHeader>; size: number; mtimeMs: number } | undefined> {
  let file: Awaited<ReturnType<typeof open>> | undefined
  try {
    file = await open(path, 'r')
    const info = await file.stat()
    const head = Buffer.alloc(Math.min(info.size, FIXED_HEADER_BYTES + MAX_KEY_BYTES))
    await file.read(head, 0, head.length, 0)
    return { parsed: parseHeader(head), size: info.size, mtimeMs: info.mtimeMs }
  } catch {
    return undefined
  } finally {
    await file?.close()
  }
}
