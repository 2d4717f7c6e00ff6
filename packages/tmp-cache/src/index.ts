export type { CacheValue } from './entry-file.js'
export {
  TmpCacheKeyBusyError,
  TmpCacheLoadTimeoutError,
  TmpCacheNoSpaceError,
  TmpCacheNotAFileError,
  TmpCacheTooLargeError,
} from './errors.js'
export type { TmpCacheOptions } from './options.js'
export {
  TmpCache,
  type TmpCacheLoader,
  type TmpCacheSetOptions,
  type TmpCacheStats,
  tmpCache,
} from './tmp-cache.js'
