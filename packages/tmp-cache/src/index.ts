export type { CacheValue } from './entry-file.js'
export { TmpCacheNoSpaceError, TmpCacheTooLargeError } from './errors.js'
export type { TmpCacheOptions } from './options.js'
export { TmpCache, type TmpCacheStats, tmpCache } from './tmp-cache.js'
