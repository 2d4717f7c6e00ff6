import type { Middleware } from '@warmstart/core'
import { LeakFoundError } from './finding.js'
import { type LeakGuard, leakGuard } from './guard.js'
import type { LeakGuardOptions } from './options.js'

/** The middleware, with the guard it runs (for `deepCheck()` in tests). */
export interface LeakGuardMiddleware extends Middleware {
  readonly guard: LeakGuard
}

/**
 * Runs the leak guard around a Middy chain: `before` notes the request, `after` and `onError` check
 * (a handler that fails can leak too). Use it first (`.use(leakGuardMiddleware())` before the
 * others): Middy runs `after` and `onError` in reverse order, so the first middleware checks last,
 * once every other middleware has done what it does, and its `before` sees the event before any
 * other middleware changes it.
 */
export function leakGuardMiddleware(options?: LeakGuardOptions | LeakGuard): LeakGuardMiddleware {
  const guard = isGuard(options) ? options : leakGuard(options)
  return {
    guard,
    before: (request) => guard.begin(request.event, request.context as object),
    after: async (request) => {
      await guard.end(request.context as object)
    },
    onError: async (request) => {
      // The guard's own error, thrown from `after` (the invocation is checked) or from `before` (an earlier
      // invocation's deep finding; this one never ran), comes back here.
      if (request.error instanceof LeakFoundError) return
      await guard.end(request.context as object, { cause: request.error })
    },
  }
}

function isGuard(value: LeakGuardOptions | LeakGuard | undefined): value is LeakGuard {
  return typeof value === 'object' && value !== null && typeof (value as LeakGuard).deepCheck === 'function'
}
