import { deepSearch } from './deep-search.js'
import type { DeepCheck } from './options.js'

export type { DeepCheck } from './options.js'

/**
 * The deep check: a V8 heap snapshot of the whole process, searched backwards from every request
 * value, every property named after one and the request objects to the module variable, closure
 * variable or global that keeps it. It finds what the fast check cannot see (`let cachedUser` at
 * module scope, a memoised function's Map, a timer's closure).
 *
 * `leakGuard({ deep: deepCheck })` runs it for each checked invocation when the next one begins;
 * `guard.deepCheck(deepCheck)` runs it now. Its cost is the snapshot's: V8 collects garbage, then
 * writes and the guard parses the whole heap, several times its size in memory (about 0.4 to 0.8 s
 * on a small test process; seconds and over a gigabyte of peak memory on a 50 MB heap). For tests
 * and CI, never in production: it lives in this entry so that a bundle that does not import it does
 * not carry it.
 */
export const deepCheck: DeepCheck = Object.freeze({ search: deepSearch })
