import { createHash, randomBytes } from 'node:crypto'
import { constants, type Stats } from 'node:fs'
import { type FileHandle, open, rmdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { threadId } from 'node:worker_threads'

/**
 * One cache entry is one file named after the sha-256 of its key:
 *
 *   0  magic 'WSC2'              4 bytes
 *   4  key length, in bytes      uint32 BE
 *   8  createdAt (ms)            float64 BE
 *  16  data length               uint64 BE
 *  24  sha-256 of key, createdAt, data and data length    32 bytes
 *  56  key (UTF-16LE code units), then the data
 *
 * Keys are stored and hashed as their UTF-16 code units, not as UTF-8: UTF-8 turns every lone
 * surrogate into U+FFFD, so `'a\ud83d'` and `'a\ud83e'` (an emoji cut in half) would share a file
 * and pass the key check. UTF-16LE round-trips every JavaScript string exactly. Version 1 files
 * ('WSC1', UTF-8 keys) fail the magic check and are removed as corrupt.
 *
 * The digest covers every byte that matters, so a flipped byte anywhere, a half-written file or a
 * file from another key is detected before anything is served.
 */
const MAGIC = Buffer.from('WSC2')
export const FIXED_HEADER_BYTES = 56
/** Longest key, in UTF-16 code units (`key.length`): every key of at most 4096 UTF-8 bytes fits. */
export const MAX_KEY_LENGTH = 4096
const MAX_KEY_BYTES = 2 * MAX_KEY_LENGTH

export type CacheValue = Buffer | Uint8Array | string | Readable

export interface EntryHeader {
  readonly key: string
  readonly createdAt: number
  readonly dataLength: number
  readonly digest: Buffer
  readonly headerBytes: number
}

export interface EntryContent {
  readonly key: string
  readonly createdAt: number
  readonly data: Buffer
}

/** The key's bytes as stored and hashed: its UTF-16 code units, lossless for any string. */
export function keyBytesOf(key: string): Buffer {
  return Buffer.from(key, 'utf16le')
}

/** A name that no key can steer: 64 hex characters, no separators. */
export function fileNameOf(key: string): string {
  return createHash('sha256').update(keyBytesOf(key)).digest('hex')
}

export const ENTRY_NAME = /^[0-9a-f]{64}$/

/** When this process started; read when first asked, since touching `performance` at import loads perf_hooks. */
function processStart(): number {
  return Math.round(performance.timeOrigin)
}

/** Temp files name their writer, so that a later process can tell a dead writer's file from a live one's. */
export const TEMP_NAME = /^([0-9a-f]{64})\.(\d+)-(\d+)-(\d+)-[0-9a-f]+\.tmp$/

function tempNameOf(fileName: string): string {
  return `${fileName}.${process.pid}-${processStart()}-${threadId}-${randomBytes(6).toString('hex')}.tmp`
}

/** Whether a temp file was left by a writer that can no longer finish it. */
export function isAbandonedTemp(match: RegExpExecArray, modifiedAt: number, now: number): boolean {
  const pid = Number(match[2])
  const start = Number(match[3])
  // No invocation runs longer than 15 minutes: a temp file untouched for longer is nobody's.
  if (now - modifiedAt > 15 * 60_000) return true
  if (pid === process.pid) return start !== processStart()
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

function digestOf(
  key: Buffer,
  createdAt: number,
): { hash: ReturnType<typeof createHash>; createdAtBytes: Buffer } {
  const createdAtBytes = Buffer.alloc(8)
  createdAtBytes.writeDoubleBE(createdAt)
  const hash = createHash('sha256').update(key).update(createdAtBytes)
  return { hash, createdAtBytes }
}

function lengthBytes(length: number): Buffer {
  const bytes = Buffer.alloc(8)
  bytes.writeBigUInt64BE(BigInt(length))
  return bytes
}

/**
 * Destroys `stream` with `signal`'s reason once it is aborted (at once if it already is), so that
 * whoever reads it gets that error; returns what stops the watch once the reading is done.
 */
export function destroyOnAbort(stream: Readable, signal: AbortSignal): () => void {
  const stop = (): void => {
    stream.destroy(signal.reason as Error)
  }
  if (signal.aborted) stop()
  else signal.addEventListener('abort', stop, { once: true })
  return () => signal.removeEventListener('abort', stop)
}

export function toBuffer(value: Buffer | Uint8Array | string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

/** Thrown by the write when the data grows past `limit` bytes of file. */
export class EntryLimitExceeded extends Error {
  constructor(readonly bytes: number) {
    super('entry limit exceeded')
  }
}

/** Thrown by the write when a stream delivers another number of bytes than it was declared to. */
export class EntrySizeMismatch extends Error {
  constructor(
    readonly declared: number,
    readonly delivered: number,
  ) {
    super('entry size mismatch')
  }
}

/** Thrown by the write when the file system takes no byte of a write (a 0-byte write, no error). */
export class EntryNotWritten extends Error {
  constructor(readonly bytes: number) {
    super('the file system took no bytes')
  }
}

/**
 * Thrown by the write when flushing the file (`fsync`, or `close`) fails with ENOSPC: a file system
 * with delayed allocation takes the blocks at write-back, after every write has succeeded. The
 * data that did not reach the disk is gone from the page cache by then (a retried fsync can report
 * success without it), so the file is dropped rather than written again.
 */
export class EntryNoSpaceAtFlush extends Error {
  constructor(
    readonly step: 'fsync' | 'close',
    readonly bytes: number,
    readonly reason: unknown,
  ) {
    super(`no space at ${step}`)
  }
}

/** Runs one step of flushing the file; ENOSPC from it becomes `EntryNoSpaceAtFlush`. */
async function flushStep(step: 'fsync' | 'close', bytes: number, run: () => Promise<void>): Promise<void> {
  try {
    await run()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw new EntryNoSpaceAtFlush(step, bytes, error)
    throw error
  }
}

/** Makes room for `missing` more bytes of a file that will be `fileBytes` long, or throws. */
export type NoSpaceHandler = (missing: number, fileBytes: number, cause: unknown) => Promise<void>

/**
 * Writes all of `chunk` at `position`, however many calls it takes: `write` may store fewer bytes
 * than asked (a disk filling up returns a short count before it fails with ENOSPC), and an
 * unchecked short write would be fsynced and renamed into place as if it were whole. On ENOSPC
 * (or a write that takes nothing) `onNoSpace` is asked to make room, once per
 * attempt; it throws when it cannot, and the write fails.
 */
async function writeFully(
  file: FileHandle,
  chunk: Buffer,
  position: number,
  fileBytes: number,
  onNoSpace: NoSpaceHandler,
): Promise<void> {
  let offset = 0
  while (offset < chunk.length) {
    let written: number
    try {
      ;({ bytesWritten: written } = await file.write(chunk, offset, chunk.length - offset, position + offset))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
      await onNoSpace(chunk.length - offset, fileBytes, error)
      continue
    }
    if (written === 0) {
      await onNoSpace(chunk.length - offset, fileBytes, new EntryNotWritten(chunk.length - offset))
      continue
    }
    offset += written
  }
}

export interface TempEntry {
  readonly path: string
  /** Bytes of the whole file, header included. */
  readonly bytes: number
}

export interface WriteRequest {
  readonly dir: string
  readonly fileName: string
  readonly key: string
  readonly createdAt: number
  readonly value: CacheValue
  /** Most bytes of file; past it the write fails with `EntryLimitExceeded`. */
  readonly limit: number
  /** For a stream: the data bytes it must deliver, exactly. */
  readonly declaredSize: number | undefined
  /** Asked to make room for `missing` more bytes (the file would then be `fileBytes` long); throws when it cannot. */
  readonly onNoSpace: NoSpaceHandler
  /** For a stream: aborted when it has run out of time; the stream is destroyed with the signal's reason. */
  readonly signal?: AbortSignal | undefined
  /** For a stream of unknown size: awaited before each chunk, with the bytes the file will then hold, to make room for them. */
  readonly onGrow?: ((fileBytes: number) => Promise<void>) | undefined
}

/**
 * Writes an entry into a temp file of its own in the same directory (mode 0600, created
 * exclusively, so no symlink is followed), checking every write, then fsyncs and closes it. The
 * caller renames it over the entry's name (`commitTemp`) under its lock, or removes it
 * (`removeTemp`). A process killed at any point leaves either the old file or the new one under the
 * entry's name, never a mix; its temp file is cleaned by a later start.
 */
export async function writeTempEntry(request: WriteRequest): Promise<TempEntry> {
  const { dir, fileName, key, createdAt, value, limit, declaredSize, onNoSpace, signal, onGrow } = request
  const keyBytes = keyBytesOf(key)
  const headerBytes = FIXED_HEADER_BYTES + keyBytes.length
  const path = join(dir, tempNameOf(fileName))
  const file = await open(path, 'wx', 0o600)
  let done = false
  try {
    const { hash, createdAtBytes } = digestOf(keyBytes, createdAt)
    let position = headerBytes
    const writeChunk = async (chunk: Buffer): Promise<void> => {
      const end = position + chunk.length
      if (end > limit) throw new EntryLimitExceeded(end)
      if (declaredSize !== undefined && end - headerBytes > declaredSize)
        throw new EntrySizeMismatch(declaredSize, end - headerBytes)
      await onGrow?.(end)
      hash.update(chunk)
      await writeFully(file, chunk, position, end, onNoSpace)
      position = end
    }
    if (typeof value === 'string' || value instanceof Uint8Array) {
      await writeChunk(toBuffer(value))
    } else {
      // Destroyed with the reason, the stream ends the loop below with that error.
      const release = signal === undefined ? undefined : destroyOnAbort(value, signal)
      try {
        for await (const chunk of value) await writeChunk(toBuffer(chunk as Buffer | string))
      } finally {
        release?.()
        value.destroy()
      }
    }
    const dataLength = position - headerBytes
    if (declaredSize !== undefined && dataLength !== declaredSize)
      throw new EntrySizeMismatch(declaredSize, dataLength)
    const lengthField = lengthBytes(dataLength)
    const header = Buffer.concat([
      MAGIC,
      Buffer.alloc(4),
      createdAtBytes,
      lengthField,
      hash.update(lengthField).digest(),
      keyBytes,
    ])
    header.writeUInt32BE(keyBytes.length, 4)
    await writeFully(file, header, 0, position, onNoSpace)
    await flushStep('fsync', position, () => file.sync())
    await flushStep('close', position, () => file.close())
    done = true
    return { path, bytes: position }
  } finally {
    if (!done) {
      await file.close().catch(() => {})
      await unlink(path).catch(() => {})
    }
  }
}

/** Parses the fixed header and the key. Undefined when the bytes are not an entry header. */
export function parseHeader(bytes: Buffer): EntryHeader | undefined {
  if (bytes.length < FIXED_HEADER_BYTES || !bytes.subarray(0, 4).equals(MAGIC)) return undefined
  const keyLength = bytes.readUInt32BE(4)
  if (keyLength > MAX_KEY_BYTES || keyLength % 2 !== 0 || bytes.length < FIXED_HEADER_BYTES + keyLength)
    return undefined
  const dataLength = bytes.readBigUInt64BE(16)
  if (dataLength > BigInt(Number.MAX_SAFE_INTEGER)) return undefined
  return {
    key: bytes.toString('utf16le', FIXED_HEADER_BYTES, FIXED_HEADER_BYTES + keyLength),
    createdAt: bytes.readDoubleBE(8),
    dataLength: Number(dataLength),
    digest: bytes.subarray(24, 56),
    headerBytes: FIXED_HEADER_BYTES + keyLength,
  }
}

/**
 * Why a file is not the entry of `key` stored under `fileName`, or its content when it is. The key
 * in the file must be exactly the one asked for (same code units), not merely hash alike.
 */
export function checkContent(
  fileName: string,
  key: string | undefined,
  bytes: Buffer,
): EntryContent | string {
  const header = parseHeader(bytes)
  if (header === undefined) return 'bad header'
  if (bytes.length !== header.headerBytes + header.dataLength) return 'wrong size'
  if ((key !== undefined && header.key !== key) || fileNameOf(header.key) !== fileName) return 'wrong key'
  const keyBytes = bytes.subarray(FIXED_HEADER_BYTES, header.headerBytes)
  const data = bytes.subarray(header.headerBytes)
  const { hash } = digestOf(keyBytes, header.createdAt)
  const digest = hash.update(data).update(lengthBytes(header.dataLength)).digest()
  if (!digest.equals(header.digest)) return 'digest mismatch'
  return { key: header.key, createdAt: header.createdAt, data }
}

export type Opened =
  | {
      readonly kind: 'file'
      readonly file: FileHandle
      readonly size: number
      readonly mtimeMs: number
      /** Which file it is (device and inode), to tell it from one renamed over its name later. */
      readonly identity: string
    }
  | { readonly kind: 'missing' }
  /** Something other than a regular file: never read. `what` says what it is (for the report). */
  | { readonly kind: 'other'; readonly what: string; readonly directory: boolean }

const KINDS = [
  ['isDirectory', 'a directory'],
  ['isFIFO', 'a FIFO'],
  ['isCharacterDevice', 'a character device'],
  ['isBlockDevice', 'a block device'],
] as const

function describeType(info: Stats): string {
  return KINDS.find(([is]) => info[is]())?.[1] ?? 'not a regular file'
}

// O_NOFOLLOW: a symlink (to /dev/zero, to another user's file) fails with ELOOP instead of being
// followed. O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer forever; it
// changes nothing for a regular file.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK

/** Opens `path` only if it is a regular file (no-follow, non-blocking, then fstat). */
export async function openRegular(path: string): Promise<Opened> {
  let file: FileHandle
  try {
    file = await open(path, OPEN_FLAGS)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return { kind: 'missing' }
    if (code === 'ELOOP') return { kind: 'other', what: 'a symbolic link', directory: false }
    // A Unix socket cannot be opened at all (ENXIO): it is not a file either.
    if (code === 'ENXIO') return { kind: 'other', what: 'a socket', directory: false }
    throw error
  }
  let info: Stats
  try {
    info = await file.stat()
  } catch (error) {
    await file.close().catch(() => {})
    throw error
  }
  if (!info.isFile()) {
    await file.close().catch(() => {})
    return { kind: 'other', what: describeType(info), directory: info.isDirectory() }
  }
  return { kind: 'file', file, size: info.size, mtimeMs: info.mtimeMs, identity: identityOf(info) }
}

/** A file's device and inode: the same for as long as it lives, whatever its name. */
export function identityOf(info: Stats): string {
  return `${info.dev}:${info.ino}`
}

/** Reads up to `size` bytes from the start; fewer when the file is shorter (truncated meanwhile). */
export async function readUpTo(file: FileHandle, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size)
  let offset = 0
  while (offset < size) {
    const { bytesRead } = await file.read(bytes, offset, size - offset, offset)
    if (bytesRead === 0) break
    offset += bytesRead
  }
  return offset === size ? bytes : bytes.subarray(0, offset)
}

/** Removes what sits at an entry's name without reading it; false when it could not (a non-empty directory). */
export async function removeOther(path: string, directory: boolean): Promise<boolean> {
  try {
    if (directory) await rmdir(path)
    else await unlink(path)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT'
  }
}
