import { WarmstartError } from '@warmstart/core'

/** A value does not fit in the cache's budget (`maxBytes`), so it was not stored. */
export class TmpCacheTooLargeError extends WarmstartError {
  /** Bytes the entry needs on disk (header included), or at least that many for a stream cut short. */
  readonly bytes: number
  readonly maxBytes: number

  constructor(cache: string, bytes: number, maxBytes: number) {
    super(
      'ERR_TMP_CACHE_TOO_LARGE',
      `tmpCache "${cache}": a value of ${bytes} bytes or more does not fit in maxBytes (${maxBytes} bytes); it was not stored`,
    )
    this.name = 'TmpCacheTooLargeError'
    this.bytes = bytes
    this.maxBytes = maxBytes
  }
}

/**
 * The file system has no room for a value even with the whole cache evicted. When that was
 * known before the write (a value of known size), nothing was evicted for it.
 */
export class TmpCacheNoSpaceError extends WarmstartError {
  /** Bytes the entry needs on disk (header included); for a stream, at least that many. */
  readonly bytes: number
  /** Bytes the file system had free for the cache when it gave up (`statfs`), its own entries not counted. */
  readonly free: number

  /**
   * `atFlush`: the file system said so only when the written file was flushed (fsync or close,
   * with delayed allocation), after every write had succeeded; nothing was evicted for it.
   */
  constructor(
    cache: string,
    bytes: number,
    free: number,
    options?: { cause?: unknown; atFlush?: 'fsync' | 'close' },
  ) {
    const atFlush = options?.atFlush
    super(
      'ERR_TMP_CACHE_NO_SPACE',
      atFlush === undefined
        ? `tmpCache "${cache}": the file system has no room for a value of ${bytes} bytes (${free} bytes free, and the cache's own entries would not make up the rest); it was not stored`
        : `tmpCache "${cache}": the file system ran out of room for a value of ${bytes} bytes at ${atFlush} of its file (${free} bytes free now); it was not stored`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    )
    this.name = 'TmpCacheNoSpaceError'
    this.bytes = bytes
    this.free = free
  }
}

/** Something other than a regular file (a non-empty directory) sits at an entry's name and could not be removed. */
export class TmpCacheNotAFileError extends WarmstartError {
  constructor(cache: string, file: string, what: string) {
    super(
      'ERR_TMP_CACHE_NOT_A_FILE',
      `tmpCache "${cache}": ${what} sits at the file of this entry (${file}) and could not be removed; it was not stored`,
    )
    this.name = 'TmpCacheNotAFileError'
  }
}

function timeoutMessage(cache: string, ms: number, source: 'loader' | 'set', joined: boolean): string {
  if (joined)
    return `tmpCache "${cache}": the load in flight did not settle within ${ms} ms (what was left of the invocation); it goes on for the callers with more time`
  return source === 'loader'
    ? `tmpCache "${cache}": the loader did not settle within ${ms} ms (loadTimeout, or what was left of the invocation); nothing was stored, the next call loads again`
    : `tmpCache "${cache}": the stream given to set did not end within ${ms} ms (loadTimeout, or what was left of the invocation); it was not stored`
}

/**
 * A value's source ran past `loadTimeout` (or what was left of the invocation): a `getOrLoad`
 * loader or the stream it returned (`source: 'loader'`), or a stream given to `set`
 * (`source: 'set'`). Nothing was stored, and the key is free for the next call; or a caller
 * that joined a `getOrLoad` in flight gave up by its own deadline, and the load goes on.
 */
export class TmpCacheLoadTimeoutError extends WarmstartError {
  readonly ms: number
  readonly source: 'loader' | 'set'

  /** `joined`: the caller joined a load in flight and gave up by its own deadline; the load goes on. */
  constructor(cache: string, ms: number, source: 'loader' | 'set', joined = false) {
    super('ERR_TMP_CACHE_LOAD_TIMEOUT', timeoutMessage(cache, ms, source, joined))
    this.source = source
    this.name = 'TmpCacheLoadTimeoutError'
    this.ms = ms
  }
}

/**
 * A `set` or a `delete` of a key waited for an earlier write of the same key (a stream still
 * arriving) until its time ran out (`loadTimeout`, or what was left of the invocation), and was
 * not done: nothing was stored or deleted for it. The earlier write goes on under its own limit.
 */
export class TmpCacheKeyBusyError extends WarmstartError {
  readonly ms: number
  readonly operation: 'set' | 'delete'

  constructor(cache: string, ms: number, operation: 'set' | 'delete') {
    super(
      'ERR_TMP_CACHE_KEY_BUSY',
      `tmpCache "${cache}": an earlier write of this key was still running after ${ms} ms (loadTimeout, or what was left of the invocation); this ${operation} was not done`,
    )
    this.name = 'TmpCacheKeyBusyError'
    this.ms = ms
    this.operation = operation
  }
}
