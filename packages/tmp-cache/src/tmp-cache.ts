/**
 * Lambda's /tmp as a bounded, crash-safe cache of files.
 *
 * Lock discipline (the one rule this file keeps):
 * - `#lock`, one per cache, is held by every step that reads or changes the index (`#index`,
 *   `#bytes`, `#reserved`) or touches a file under an entry's name: a `get` from its open to its
 *   index update (expiry included), room-making and eviction, the commit of a `set` (rename and
 *   index update together), `delete`, and the start (rebuilding the index). Nothing outside it
 *   touches either, so once the operations in flight have settled, `#bytes` is the sum of the
 *   sizes of the entry files on disk, whatever the interleaving was; an expired file is removed in
 *   the same hold that read it, so it is never a file another `set` has just renamed into place.
 * - Writing a temp file runs outside `#lock`: its name is its writer's alone. The room it needs is
 *   made and reserved (`#reserved`) under `#lock` before it starts, and released under `#lock`
 *   at its commit or failure. A `get` never waits for a slow stream being stored.
 * - `#keyLocks` orders the `set`s and `delete`s of one key, so that they land in call order. It is
 *   taken before `#lock`, never while holding it: the two cannot wait on each other.
 */
import { mkdir, readdir, rename, stat, statfs, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { buffer } from 'node:stream/consumers'
import { registerRoot, WarmstartError } from '@warmstart/core'
import { emit, joinWithin, loadOnce, logSafely, timeBudget, withTimeout } from '@warmstart/core/internal'
import {
  type CacheValue,
  checkContent,
  destroyOnAbort,
  ENTRY_NAME,
  EntryLimitExceeded,
  EntryNoSpaceAtFlush,
  EntryNotWritten,
  EntrySizeMismatch,
  FIXED_HEADER_BYTES,
  fileNameOf,
  identityOf,
  isAbandonedTemp,
  MAX_KEY_LENGTH,
  type Opened,
  openRegular,
  parseHeader,
  readUpTo,
  removeOther,
  TEMP_NAME,
  type TempEntry,
  toBuffer,
  writeTempEntry,
} from './entry-file.js'
import {
  TmpCacheKeyBusyError,
  TmpCacheLoadTimeoutError,
  TmpCacheNoSpaceError,
  TmpCacheNotAFileError,
  TmpCacheTooLargeError,
} from './errors.js'
import { KeyedLock, Lock, type LockWait } from './keyed-lock.js'
import { type ResolvedOptions, resolveOptions, type TmpCacheOptions } from './options.js'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    /** Keys are named by their sha-256 (`file`), never as given: they may be user ids. */
    'tmp-cache.hit': { cache: string; file: string }
    'tmp-cache.miss': { cache: string; file: string }
    'tmp-cache.evict': { cache: string; file: string; bytes: number; reason: 'size' | 'space' | 'expired' }
    /**
     * A file failed its check (size, key or sha-256) and was deleted instead of served, or something
     * other than a regular file sat at an entry's name (a FIFO, a symlink, a directory) and was
     * removed unread (`reason` says which; `removed: false` when it could not be).
     */
    'tmp-cache.corrupt': { cache: string; file: string; reason: string; removed?: boolean }
    /** At start: temp files of writers that died mid-write were removed. */
    'tmp-cache.cleanup': { cache: string; tempFiles: number; entries: number; bytes: number }
    /** A `getOrLoad` loader did not settle within its time (`ms`), or a caller that joined it gave up by its own deadline; they got ERR_TMP_CACHE_LOAD_TIMEOUT. */
    'tmp-cache.load-timeout': { cache: string; file: string; ms: number }
  }
}

/** Kept back from the invocation's remaining time so that the handler can still answer after a load times out. */
const LOAD_MARGIN_MS = 100

/** What `getOrLoad` calls on a miss: the key, and a signal aborted when the load's time is up. */
export type TmpCacheLoader = (key: string, signal: AbortSignal) => CacheValue | Promise<CacheValue>

export interface TmpCacheStats {
  readonly hits: number
  readonly misses: number
  readonly evictions: number
  readonly entries: number
  /** Bytes of the entry files on disk, headers included. */
  readonly bytes: number
  /** Files that failed their check, and things other than regular files found at an entry's name. */
  readonly corrupt: number
}

export interface TmpCacheSetOptions {
  /**
   * For a stream: the bytes of data it will deliver (an S3 object's `ContentLength`). With it, room
   * is made before the first byte is written, and a value that can never fit is refused before
   * anything is evicted; a stream that delivers another number of bytes is refused
   * (`ERR_TMP_CACHE_SIZE_MISMATCH`). Ignored for bytes and strings, whose size is known.
   */
  size?: number
}

/** A `getOrLoad` in flight, and when its time limit ends (a `Date.now()` time). */
interface Load {
  readonly promise: Promise<Buffer>
  readonly deadline: number
}

interface IndexEntry {
  readonly key: string
  readonly bytes: number
  readonly createdAt: number
}

const roundUp = (bytes: number, block: number): number => Math.ceil(bytes / block) * block

/**
 * Lambda's /tmp as a bounded, crash-safe cache of files. See `tmpCache()`.
 */
export class TmpCache {
  readonly #options: ResolvedOptions
  /** By file name, least recently used first. Keeps the keys as given, for the leak guard. */
  readonly #index = new Map<string, IndexEntry>()
  // Bumped on every entry added, so the leak guard can skip a cache that gained nothing since it last read it clean.
  #writes = 0
  readonly #lock = new Lock()
  readonly #keyLocks = new KeyedLock()
  readonly #loading = new Map<string, Load>()
  /** Creates the directory and rebuilds the index from disk, once; tried again after a failure. */
  readonly #start = loadOnce(() => this.#lock.run(() => this.#rebuild()))
  /** Bytes of the entry files in the index. */
  #bytes = 0
  /** Bytes promised to writes in flight (room made for them, not yet committed). */
  #reserved = 0
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
    const data = await this.#read(fileName, key)
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
   * system. Rejects with `TmpCacheTooLargeError` when the value alone exceeds `maxBytes`, and with
   * `TmpCacheNoSpaceError` when the file system cannot hold it even with the cache emptied. When it
   * resolves, every byte of the value is on disk.
   */
  async set(key: string, value: CacheValue, options?: TmpCacheSetOptions): Promise<void> {
    const fileName = this.#fileName(key)
    if (!isCacheValue(value)) {
      throw new WarmstartError(
        'ERR_INVALID_ARGUMENT',
        `tmpCache "${this.#options.name}": a value must be a Buffer, a Uint8Array, a string or a readable stream`,
      )
    }
    const declared = options?.size
    if (declared !== undefined && (!Number.isSafeInteger(declared) || declared < 0)) {
      throw new WarmstartError(
        'ERR_INVALID_ARGUMENT',
        `tmpCache "${this.#options.name}": set's "size" must be a whole number of bytes >= 0`,
      )
    }
    // A load in flight for the key read its value before this one: it must not store it over this.
    this.#loading.delete(fileName)
    await this.#start()
    await this.#keyLocks.run(
      fileName,
      () => this.#write(fileName, key, value, declared),
      this.#keyWait('set'),
    )
  }

  /**
   * The value under `key`, or the loader's result stored then returned. Concurrent calls for one
   * key share one load. A loader's failure is not cached. A load runs under a time limit
   * (`loadTimeout`, or what is left of the invocation less 100 ms when that is shorter), reading
   * the stream it returns included: past it, its callers get `TmpCacheLoadTimeoutError`, the key is
   * free for the next call, the loader's `signal` is aborted, its stream destroyed, and nothing is
   * stored. A `delete` or `set` of the key while the load runs wins: the load's result is returned
   * to its callers but not stored.
   */
  getOrLoad(key: string, loader: TmpCacheLoader): Promise<Buffer> {
    let fileName: string
    try {
      fileName = this.#fileName(key)
    } catch (error) {
      return Promise.reject(error)
    }
    const inFlight = this.#loading.get(fileName)
    if (inFlight !== undefined) {
      // A caller with less time left than the load (Managed Instances) gives up alone.
      return joinWithin(inFlight.promise, inFlight.deadline, LOAD_MARGIN_MS, (ms) =>
        this.#loadTimedOut(fileName, ms, true),
      )
    }
    // When the loader's own limit ends, give or take the read of the cached file before it starts.
    const deadline = Date.now() + timeBudget(this.#options.loadTimeout, LOAD_MARGIN_MS)
    const promise: Promise<Buffer> = this.#load(
      fileName,
      key,
      loader,
      deadline,
      () => this.#loading.get(fileName) === load,
    ).finally(() => {
      if (this.#loading.get(fileName) === load) this.#loading.delete(fileName)
    })
    const load: Load = { promise, deadline }
    this.#loading.set(fileName, load)
    return promise
  }

  /**
   * `getOrLoad`'s work, to end by `deadline`; `current` says whether no `delete` or `set` of the key
   * has overtaken it.
   */
  async #load(
    fileName: string,
    key: string,
    loader: TmpCacheLoader,
    deadline: number,
    current: () => boolean,
  ): Promise<Buffer> {
    const cached = await this.get(key)
    if (cached !== undefined) return cached
    const bytes = await this.#runLoader(fileName, key, loader)
    if (!current()) return bytes
    // Checked and queued on the key's lock in one step: a delete or set called from now on lands
    // after this store, one called before it has dropped the load, whose result may be outdated.
    // An earlier set still writing the key at the deadline keeps it: the result is returned unstored.
    const ms = Math.max(0, deadline - Date.now())
    const store = this.#keyLocks.run(fileName, () => this.#write(fileName, key, bytes, undefined), {
      ms,
      onTimeout: () => new TmpCacheKeyBusyError(this.#options.name, ms, 'set'),
    })
    await store.catch((error: unknown) => {
      if (!(error instanceof TmpCacheKeyBusyError)) throw error
    })
    return bytes
  }

  /** Runs the loader and reads what it returned into memory, under the load's time limit. */
  #runLoader(fileName: string, key: string, loader: TmpCacheLoader): Promise<Buffer> {
    const ms = timeBudget(this.#options.loadTimeout, LOAD_MARGIN_MS)
    return withTimeout(
      async (signal) => readLoaded(this.#options.name, await loader(key, signal), signal),
      ms,
      () => this.#loadTimedOut(fileName, ms, false),
    )
  }

  #loadTimedOut(fileName: string, ms: number, joined: boolean): TmpCacheLoadTimeoutError {
    const { name } = this.#options
    emit('tmp-cache.load-timeout', { cache: name, file: fileName, ms })
    return new TmpCacheLoadTimeoutError(name, ms, 'loader', joined)
  }

  /** Removes `key`; true when something was stored under it. */
  async delete(key: string): Promise<boolean> {
    const fileName = this.#fileName(key)
    // A load in flight for the key must not store what it read before the delete.
    this.#loading.delete(fileName)
    await this.#start()
    return this.#keyLocks.run(
      fileName,
      () =>
        this.#lock.run(async () => {
          this.#forget(fileName)
          return removeFile(join(this.#options.dir, fileName))
        }),
      this.#keyWait('delete'),
    )
  }

  /**
   * How long a set or delete waits for an earlier write of its key: a stream that stalls holds the
   * key until its own limit, which may be an invocation with far more time left (Managed Instances).
   */
  #keyWait(operation: 'set' | 'delete'): LockWait {
    const ms = timeBudget(this.#options.loadTimeout, LOAD_MARGIN_MS)
    return { ms, onTimeout: () => new TmpCacheKeyBusyError(this.#options.name, ms, operation) }
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
    if (typeof key !== 'string' || key.length > MAX_KEY_LENGTH) {
      throw new WarmstartError(
        'ERR_INVALID_ARGUMENT',
        `tmpCache "${this.#options.name}": a key must be a string of at most ${MAX_KEY_LENGTH} characters (UTF-16 code units)`,
      )
    }
    return fileNameOf(key)
  }

  /** Under `#lock`. */
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
      const opened = await openRegular(path).catch(() => undefined)
      if (opened === undefined || opened.kind === 'missing') continue
      if (opened.kind === 'other') {
        await this.#discardOther(name, opened)
        continue
      }
      const { file, size, mtimeMs } = opened
      let parsed: ReturnType<typeof parseHeader>
      try {
        parsed = parseHeader(await readUpTo(file, Math.min(size, FIXED_HEADER_BYTES + 2 * MAX_KEY_LENGTH)))
      } catch {
        continue
      } finally {
        await file.close().catch(() => {})
      }
      if (
        parsed === undefined ||
        size !== parsed.headerBytes + parsed.dataLength ||
        size > this.#options.maxBytes ||
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

  /**
   * Reads and checks the file of `key`; drops it when it is corrupt, expired or not a regular file.
   * Counts nothing. The read and the hash (2 to 3 ms per MB) run outside `#lock`, so that under
   * Managed Instances no get waits for another's; what it finds changes the index under `#lock`,
   * and only while the entry's name still names the file it read (a set may have renamed a new one
   * over it meanwhile, or an eviction removed it).
   */
  async #read(fileName: string, key: string): Promise<Buffer | undefined> {
    const path = join(this.#options.dir, fileName)
    const opened = await openRegular(path)
    if (opened.kind !== 'file') {
      await this.#lock.run(() => this.#dropMissingOrOther(fileName, path))
      return undefined
    }
    const { file, size, identity } = opened
    const ifStill = (change: () => Promise<void> | void) =>
      this.#lock.run(async () => {
        const now = await stat(path).catch(() => undefined)
        if (now !== undefined && identityOf(now) === identity) await change()
      })
    try {
      // No entry file is larger than the budget: a larger one is not read at all.
      if (size > this.#options.maxBytes) {
        await ifStill(() => this.#discardCorrupt(fileName, 'larger than maxBytes'))
        return undefined
      }
      const bytes = await readUpTo(file, size)
      const content = checkContent(fileName, key, bytes)
      if (typeof content === 'string') {
        await ifStill(() => this.#discardCorrupt(fileName, content))
        return undefined
      }
      const { ttlMs, clock } = this.#options
      // Written "in the future" (the wall clock stepped back since, or another host's clock ran
      // ahead): its age is unknown, so it counts as expired rather than fresh for the step.
      const age = clock.now() - content.createdAt
      if (ttlMs !== undefined && (age >= ttlMs || age < 0)) {
        await ifStill(() => this.#evict(fileName, 'expired', bytes.length))
        return undefined
      }
      // Most recently used: last in the index, and on disk (mtime) for the next rebuild.
      await ifStill(() => {
        this.#forget(fileName)
        this.#remember(fileName, { key: content.key, bytes: bytes.length, createdAt: content.createdAt })
      })
      const usedAt = new Date()
      await file.utimes(usedAt, usedAt).catch(() => {})
      return content.data
    } finally {
      await file.close().catch(() => {})
    }
  }

  /** Under `#lock`. Nothing readable was at the entry's name: forgets it, or removes what sits there instead, if that is still so. */
  async #dropMissingOrOther(fileName: string, path: string): Promise<void> {
    const opened = await openRegular(path)
    if (opened.kind === 'missing') this.#forget(fileName)
    else if (opened.kind === 'other') await this.#discardOther(fileName, opened)
    else await opened.file.close().catch(() => {})
  }

  /** Under the key's lock; takes `#lock` for the room, each eviction and the commit. */
  async #write(
    fileName: string,
    key: string,
    value: CacheValue,
    declared: number | undefined,
  ): Promise<void> {
    const { dir, maxBytes, name, clock } = this.#options
    const headerBytes = FIXED_HEADER_BYTES + 2 * key.length
    const data = typeof value === 'string' || value instanceof Uint8Array ? toBuffer(value) : value
    const dataBytes = Buffer.isBuffer(data) ? data.length : declared
    const known = dataBytes === undefined ? undefined : headerBytes + dataBytes
    if ((known ?? headerBytes) > maxBytes)
      throw new TmpCacheTooLargeError(name, known ?? headerBytes, maxBytes)
    let reserved = known ?? 0
    if (known !== undefined) await this.#lock.run(() => this.#makeRoom(known))
    // Of unknown size, a stream is made room for as it grows, a step at a time: written beside the
    // entries it would evict at its commit, it would otherwise bring the files near 2 × maxBytes.
    const onGrow =
      known !== undefined
        ? undefined
        : async (fileBytes: number) => {
            if (fileBytes <= reserved) return
            const more =
              Math.min(maxBytes, Math.max(fileBytes, reserved + Math.ceil(maxBytes / 64))) - reserved
            await this.#lock.run(async () => {
              await this.#evictForBudget(more, 1)
              this.#reserved += more
            })
            reserved += more
          }
    const createdAt = clock.now()
    // A stream is usually a download: one that stalls must not hold the key's lock, and with it
    // every later set and delete of the key, for good.
    const deadline = Buffer.isBuffer(data) ? undefined : this.#streamDeadline()
    let temp: TempEntry
    try {
      temp = await writeTempEntry({
        dir,
        fileName,
        key,
        createdAt,
        value: data,
        limit: maxBytes,
        declaredSize: Buffer.isBuffer(data) ? undefined : declared,
        signal: deadline?.signal,
        onGrow,
        onNoSpace: (missing, fileBytes, cause) =>
          this.#lock.run(() => this.#makeSpace(missing, Math.max(fileBytes, known ?? 0), cause)),
      })
    } catch (error) {
      await this.#lock.run(async () => {
        this.#reserved -= reserved
      })
      if (error instanceof EntryLimitExceeded) throw new TmpCacheTooLargeError(name, error.bytes, maxBytes)
      if (error instanceof EntryNoSpaceAtFlush) {
        // The temp file is already removed. The next set makes its room from statfs as usual.
        const fs = await statfs(dir)
        throw new TmpCacheNoSpaceError(name, error.bytes, fs.bavail * fs.bsize, {
          cause: error.reason,
          atFlush: error.step,
        })
      }
      if (error instanceof EntrySizeMismatch) {
        throw new WarmstartError(
          'ERR_TMP_CACHE_SIZE_MISMATCH',
          `tmpCache "${name}": the stream was declared as ${error.declared} bytes and delivered ${error.delivered} or more; it was not stored`,
        )
      }
      throw error
    } finally {
      deadline?.clear()
    }
    await this.#lock.run(() => this.#commit(fileName, key, createdAt, temp, reserved))
  }

  /**
   * A signal aborted, with `TmpCacheLoadTimeoutError`, once a stream given to `set` has run past
   * its time. The write stops by destroying the stream, so the set fails only once its temp file
   * is gone (no `withTimeout` race: the key's lock is held until then).
   */
  #streamDeadline(): { readonly signal: AbortSignal; clear(): void } {
    const { name, loadTimeout } = this.#options
    const ms = timeBudget(loadTimeout, LOAD_MARGIN_MS)
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new TmpCacheLoadTimeoutError(name, ms, 'set')), ms)
    return { signal: controller.signal, clear: () => clearTimeout(timer) }
  }

  /**
   * Under `#lock`. Evicts least recently used entries until `bytes` more fit in the budget and on
   * the file system, then reserves them. A value the file system cannot hold even with every entry
   * evicted is refused first, with nothing evicted.
   */
  async #makeRoom(bytes: number): Promise<void> {
    const { dir, name } = this.#options
    const fs = await statfs(dir)
    const block = fs.bsize
    let free = fs.bavail * fs.bsize
    const needed = roundUp(bytes, block)
    if (free + this.#diskBytes(block) < needed) throw new TmpCacheNoSpaceError(name, bytes, free)
    free += await this.#evictForBudget(bytes, block)
    while (free < needed && this.#index.size > 0)
      free += roundUp(await this.#evictOldest('space', undefined), block)
    this.#reserved += bytes
  }

  /**
   * Under `#lock`. Evicts least recently used entries until `bytes` more fit in `maxBytes` beside
   * the entries and the room promised to writes in flight; returns what that freed on disk, in
   * whole blocks of `block` bytes.
   */
  async #evictForBudget(bytes: number, block: number): Promise<number> {
    let freed = 0
    while (this.#bytes + this.#reserved + bytes > this.#options.maxBytes && this.#index.size > 0)
      freed += roundUp(await this.#evictOldest('size', undefined), block)
    return freed
  }

  /**
   * Under `#lock`. A write met a full disk (ENOSPC, or a write that took nothing) with `missing`
   * bytes still to go: evicts least recently used entries until they fit, at least one (the disk
   * said no, whatever statfs says now). Throws when the cache has nothing left to give, or could
   * not give enough even emptied.
   */
  async #makeSpace(missing: number, fileBytes: number, cause: unknown): Promise<void> {
    const { dir, name } = this.#options
    const fs = await statfs(dir)
    const block = fs.bsize
    let free = fs.bavail * fs.bsize
    const needed = roundUp(missing, block)
    const options = cause instanceof EntryNotWritten ? undefined : { cause }
    if (this.#index.size === 0 || free + this.#diskBytes(block) < needed)
      throw new TmpCacheNoSpaceError(name, fileBytes, free, options)
    do free += roundUp(await this.#evictOldest('space', undefined), block)
    while (free < needed && this.#index.size > 0)
  }

  /** Under `#lock`. Renames the temp file over the entry's name and counts it, then trims to the budget. */
  async #commit(
    fileName: string,
    key: string,
    createdAt: number,
    temp: TempEntry,
    reserved: number,
  ): Promise<void> {
    this.#reserved -= reserved
    const path = join(this.#options.dir, fileName)
    try {
      await this.#renameOver(temp.path, path, fileName)
    } catch (error) {
      await unlink(temp.path).catch(() => {})
      throw error
    }
    this.#forget(fileName)
    this.#remember(fileName, { key, bytes: temp.bytes, createdAt })
    this.#writes++
    await this.#trim(fileName)
  }

  /** A rename refused by a directory at the entry's name removes an empty one and tries once more. */
  async #renameOver(from: string, to: string, fileName: string): Promise<void> {
    try {
      await rename(from, to)
      return
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
    }
    this.#forget(fileName)
    const removed = await removeOther(to, true)
    this.#report(fileName, 'a directory', removed)
    if (!removed) throw new TmpCacheNotAFileError(this.#options.name, fileName, 'a directory')
    await rename(from, to)
  }

  /** Evicts least recently used entries, `keep` excepted, until the budget holds. */
  async #trim(keep: string | undefined): Promise<void> {
    // An entry alone never exceeds maxBytes, so evicting all but `keep` always ends the loop.
    let freed = 1
    while (this.#bytes > this.#options.maxBytes && freed > 0) freed = await this.#evictOldest('size', keep)
  }

  /** Bytes on disk of the entries, counted in whole blocks. */
  #diskBytes(block: number): number {
    let total = 0
    for (const entry of this.#index.values()) total += roundUp(entry.bytes, block)
    return total
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
    this.#report(fileName, reason, undefined)
    await removeFile(join(this.#options.dir, fileName))
  }

  /** Something other than a regular file at an entry's name: removed unread, or reported when it cannot be. */
  async #discardOther(fileName: string, opened: Extract<Opened, { kind: 'other' }>): Promise<void> {
    this.#forget(fileName)
    const removed = await removeOther(join(this.#options.dir, fileName), opened.directory)
    this.#report(fileName, `not a regular file (${opened.what})`, removed)
  }

  #report(fileName: string, reason: string, removed: boolean | undefined): void {
    this.#corrupt++
    const details = {
      cache: this.#options.name,
      file: fileName,
      reason,
      ...(removed === undefined ? {} : { removed }),
    }
    emit('tmp-cache.corrupt', details)
    logSafely(this.#options.logger, 'warn', 'tmp-cache.corrupt', details)
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

/**
 * A loader's value as bytes; the caller gets them in memory anyway, so a stream is read once, then
 * stored. A stream still being read when the load's time runs out is destroyed: nothing keeps a
 * stalled download open.
 */
async function readLoaded(cache: string, value: unknown, signal: AbortSignal): Promise<Buffer> {
  if (!isCacheValue(value)) {
    // Its type only: a value in a message could be a secret.
    throw new WarmstartError(
      'ERR_INVALID_ARGUMENT',
      `tmpCache "${cache}": the loader returned ${value === null ? 'null' : typeof value}; return a Buffer, a Uint8Array, a string or a readable stream, or throw for "not found"`,
    )
  }
  if (typeof value === 'string' || value instanceof Uint8Array) return toBuffer(value)
  const release = destroyOnAbort(value, signal)
  try {
    return await buffer(value)
  } finally {
    release()
  }
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
