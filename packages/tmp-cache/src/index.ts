export type { CacheValue } from './entry-file.js'
export { TmpCacheNoSpaceError, TmpCacheNotAFileError, TmpCacheTooLargeError } from './errors.js'
export type { TmpCacheOptions } from './options.js'
export { TmpCache, type TmpCacheSetOptions, type TmpCacheStats, tmpCache } from './tmp-cache.js'
