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

/** A Lambda-like context whose remaining time the test controls. */
export function lambdaContext(
  requestId: string,
  remainingMs = 30_000,
): {
  awsRequestId: string
  getRemainingTimeInMillis: () => number
} {
  return { awsRequestId: requestId, getRemainingTimeInMillis: () => remainingMs }
}

/** A promise the test settles by hand. */
export function deferred<T = void>(): {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (error: unknown) => void
} {
  let resolve: (value: T) => void = () => {}
  let reject: (error: unknown) => void = () => {}
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** A logger that records what it was given. */
export function recordingLogger(): {
  records: { level: string; message: string; details: Record<string, unknown> | undefined }[]
  info: (message: string, details?: Record<string, unknown>) => void
  warn: (message: string, details?: Record<string, unknown>) => void
  error: (message: string, details?: Record<string, unknown>) => void
} {
  const records: { level: string; message: string; details: Record<string, unknown> | undefined }[] = []
  const at = (level: string) => (message: string, details?: Record<string, unknown>) => {
    records.push({ level, message, details })
  }
  return { records, info: at('info'), warn: at('warn'), error: at('error') }
}
