export { BoundedLru, boundedLru, type LruStats, type SetOptions } from './bounded-lru.js'
export type { BoundedLruOptions, ByteBudget } from './options.js'
export { estimateSize } from './size-of.js'
