import { createHash, randomBytes } from 'node:crypto'
import { open, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { threadId } from 'node:worker_threads'

/**
 * One cache entry is one file named after the sha-256 of its key:
 *
 *   0  magic 'WSC1'              4 bytes
 *   4  key length                uint32 BE
 *   8  createdAt (ms)            float64 BE
 *  16  data length               uint64 BE
 *  24  sha-256 of key, createdAt, data and data length    32 bytes
 *  56  key (UTF-8), then the data
 *
 * The digest covers every byte that matters, so a flipped byte anywhere, a half-written file or a
 * file from another key is detected before anything is served.
 */
const MAGIC = Buffer.from('WSC1')
export const FIXED_HEADER_BYTES = 56
/** Longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 4096

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

/** A name that no key can steer: 64 hex characters, no separators. */
export function fileNameOf(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
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

/**
 * Writes an entry crash-safely: into a temp file of its own in the same directory (mode 0600),
 * fsync, then rename over the entry's name. A process killed at any point leaves either the old
 * file or the new one under the entry's name, never a mix; the temp file is cleaned by a later
 * start. Returns the file's size.
 */
export async function writeEntryFile(
  dir: string,
  fileName: string,
  key: string,
  createdAt: number,
  value: CacheValue,
  limit: number,
): Promise<number> {
  const keyBytes = Buffer.from(key, 'utf8')
  const headerBytes = FIXED_HEADER_BYTES + keyBytes.length
  const tempPath = join(dir, tempNameOf(fileName))
  const file = await open(tempPath, 'wx', 0o600)
  let committed = false
  try {
    const { hash, createdAtBytes } = digestOf(keyBytes, createdAt)
    let position = headerBytes
    const writeChunk = async (chunk: Buffer): Promise<void> => {
      if (position + chunk.length > limit) throw new EntryLimitExceeded(position + chunk.length)
      hash.update(chunk)
      await file.write(chunk, 0, chunk.length, position)
      position += chunk.length
    }
    if (typeof value === 'string' || value instanceof Uint8Array) {
      await writeChunk(toBuffer(value))
    } else {
      try {
        for await (const chunk of value) await writeChunk(toBuffer(chunk as Buffer | string))
      } finally {
        value.destroy()
      }
    }
    const dataLength = position - headerBytes
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
    await file.write(header, 0, header.length, 0)
    await file.sync()
    await file.close()
    await rename(tempPath, join(dir, fileName))
    committed = true
    return position
  } finally {
    if (!committed) {
      await file.close().catch(() => {})
      await unlink(tempPath).catch(() => {})
    }
  }
}

/** Parses the fixed header and the key. Undefined when the bytes are not an entry header. */
export function parseHeader(bytes: Buffer): EntryHeader | undefined {
  if (bytes.length < FIXED_HEADER_BYTES || !bytes.subarray(0, 4).equals(MAGIC)) return undefined
  const keyLength = bytes.readUInt32BE(4)
  if (keyLength > MAX_KEY_BYTES || bytes.length < FIXED_HEADER_BYTES + keyLength) return undefined
  const dataLength = bytes.readBigUInt64BE(16)
  if (dataLength > BigInt(Number.MAX_SAFE_INTEGER)) return undefined
  return {
    key: bytes.toString('utf8', FIXED_HEADER_BYTES, FIXED_HEADER_BYTES + keyLength),
    createdAt: bytes.readDoubleBE(8),
    dataLength: Number(dataLength),
    digest: bytes.subarray(24, 56),
    headerBytes: FIXED_HEADER_BYTES + keyLength,
  }
}

/** Why a file is not a valid entry for its name, or undefined when it is. */
export function checkContent(fileName: string, bytes: Buffer): EntryContent | string {
  const header = parseHeader(bytes)
  if (header === undefined) return 'bad header'
  if (bytes.length !== header.headerBytes + header.dataLength) return 'wrong size'
  const keyBytes = bytes.subarray(FIXED_HEADER_BYTES, header.headerBytes)
  if (fileNameOf(header.key) !== fileName || !Buffer.from(header.key, 'utf8').equals(keyBytes))
    return 'wrong key'
  const data = bytes.subarray(header.headerBytes)
  const { hash } = digestOf(keyBytes, header.createdAt)
  const digest = hash.update(data).update(lengthBytes(header.dataLength)).digest()
  if (!digest.equals(header.digest)) return 'digest mismatch'
  return { key: header.key, createdAt: header.createdAt, data }
}
