import type { InvocationInfo } from '@warmstart/core'

interface CoreTracker {
  count: number
  current: InvocationInfo | undefined
}

interface LifecycleEnvironment {
  first: unknown
  active: { clear(): void }
}

/**
 * Makes this test process look like a fresh execution environment: core's invocation count and
 * the lifecycle state are process-wide (one per environment), so tests of cold starts reset them.
 */
export function freshEnvironment(): void {
  const holder = globalThis as unknown as Record<symbol, unknown>
  const tracker = holder[Symbol.for('@warmstart/core:invocations')] as CoreTracker | undefined
  if (tracker !== undefined) {
    tracker.count = 0
    tracker.current = undefined
  }
  const environment = holder[Symbol.for('@warmstart/lifecycle:environment')] as
    | LifecycleEnvironment
    | undefined
  if (environment !== undefined) {
    environment.first = undefined
    environment.active.clear()
  }
  ;(holder[Symbol.for('@warmstart/lifecycle:background-work')] as Map<unknown, unknown> | undefined)?.clear()
}
