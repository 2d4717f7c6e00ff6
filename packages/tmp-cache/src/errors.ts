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

/** The file system has no room for a value even with the whole cache evicted. */
export class TmpCacheNoSpaceError extends WarmstartError {
  constructor(cache: string, bytes: number, options?: { cause?: unknown }) {
    super(
      'ERR_TMP_CACHE_NO_SPACE',
      `tmpCache "${cache}": the file system has no room for a value of ${bytes} bytes; it was not stored`,
      options,
    )
    this.name = 'TmpCacheNoSpaceError'
  }
}
