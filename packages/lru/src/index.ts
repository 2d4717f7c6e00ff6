export { BoundedLru, boundedLru, LruLoadTimeoutError, type LruStats, type SetOptions } from './bounded-lru.js'
export type { BoundedLruOptions, ByteBudget } from './options.js'
export { ENTRY_OVERHEAD_BYTES, estimateSize, UNSEEN_BYTES } from './size-of.js'
