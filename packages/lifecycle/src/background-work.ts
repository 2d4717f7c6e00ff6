import { currentRequestId, emit, type Logger, processWide } from '@warmstart/core'
import { describeFailure } from './failure.js'
import { safeLog } from './log.js'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    /** Work passed to `waitUntil` had not finished when the invocation had to end; it is frozen with the process. */
    'lifecycle.wait-timeout': { requestId: string; pending: number; names: string[]; waitedMs: number }
    /** Work passed to `waitUntil` failed; the invocation's own outcome is not changed. */
    'lifecycle.wait-failed': { requestId: string; name?: string; error: { name: string; code?: string } }
  }
}

export interface WaitUntilOptions {
  /** Names the work in reports (`lifecycle.wait-timeout`, `lifecycle.wait-failed`). Never put data in it. */
  name?: string
}

interface Work {
  readonly name: string | undefined
  readonly done: Promise<void>
}

interface Failure {
  readonly name: string | undefined
  readonly error: { name: string; code?: string }
}

/** The background work of one invocation. */
interface Bucket {
  readonly pending: Set<Work>
  readonly failures: Failure[]
}

/** Work started while no invocation could be told apart (init, or no middleware for this request). */
const UNATTRIBUTED = Symbol('unattributed')

const buckets = processWide(
  'lifecycle:background-work',
  () => new Map<string | typeof UNATTRIBUTED, Bucket>(),
)

function newBucket(): Bucket {
  return { pending: new Set(), failures: [] }
}

/**
 * Registers work that must finish before the invocation ends: Lambda freezes the process as soon
 * as the handler returns, and frozen work resumes only at the next thaw, if ever. The work is
 * attributed to the invocation the caller runs in (`currentRequestId()`), so under Managed
 * Instances each invocation waits for its own work only. Work started outside any invocation the
 * lifecycle middleware knows of is awaited by the next invocation to end. Its failure is
 * reported, never thrown.
 */
export function waitUntil(promise: PromiseLike<unknown>, options: WaitUntilOptions = {}): void {
  const requestId = currentRequestId()
  const bucket = (requestId === undefined ? undefined : buckets.get(requestId)) ?? unattributedBucket()
  const name = options.name
  const work: Work = {
    name,
    done: Promise.resolve(promise).then(
      () => {
        bucket.pending.delete(work)
      },
      (error: unknown) => {
        bucket.pending.delete(work)
        bucket.failures.push({ name, error: describeFailure(error) })
      },
    ),
  }
  bucket.pending.add(work)
}

function unattributedBucket(): Bucket {
  let bucket = buckets.get(UNATTRIBUTED)
  if (bucket === undefined) {
    bucket = newBucket()
    buckets.set(UNATTRIBUTED, bucket)
  }
  return bucket
}

/** Starts collecting the background work of one invocation. */
export function openBucket(requestId: string): void {
  buckets.set(requestId, newBucket())
}

/** What became of an invocation's background work. */
export interface SettleReport {
  /** Work still running when the time ran out, by name (unnamed work counts as `'unnamed'`). */
  readonly pending: readonly string[]
  /** Work that failed, by name. */
  readonly failed: readonly string[]
  readonly waitedMs: number
}

export interface SettleOptions {
  /** The invocation whose work to wait for; default `currentRequestId()`. */
  requestId?: string
  /** How long to wait at most, in milliseconds; default: until everything has settled. */
  budgetMs?: number
  logger?: Logger | undefined
}

/**
 * Waits for the background work of one invocation (and any unattributed work), at most
 * `budgetMs`, then reports what did not finish (`lifecycle.wait-timeout`) and what failed
 * (`lifecycle.wait-failed`). Never throws. `lifecycleMiddleware` calls it at the end of each
 * invocation; call it yourself at the end of a handler that does not use Middy.
 */
export async function settleBackgroundWork(options: SettleOptions = {}): Promise<SettleReport> {
  const requestId = options.requestId ?? currentRequestId() ?? 'unknown'
  const started = Date.now()
  const deadline = started + (options.budgetMs ?? Number.POSITIVE_INFINITY)
  const own = buckets.get(requestId)
  const unattributed = buckets.get(UNATTRIBUTED)
  buckets.delete(UNATTRIBUTED)
  const mine = [own, unattributed].filter((b): b is Bucket => b !== undefined)
  // Loop: work may register more work while it runs.
  for (;;) {
    const pending = mine.flatMap((b) => [...b.pending])
    if (pending.length === 0) break
    const remaining = deadline - Date.now()
    if (remaining <= 0) break
    const allDone = Promise.all(pending.map((w) => w.done)).then(() => true as const)
    if (!(await raceTimeout(allDone, remaining))) break
  }
  buckets.delete(requestId)
  const waitedMs = Date.now() - started
  const stillPending = mine.flatMap((b) => [...b.pending].map((w) => w.name ?? 'unnamed'))
  const failures = mine.flatMap((b) => b.failures.splice(0))
  for (const failure of failures) {
    const details = {
      requestId,
      ...(failure.name === undefined ? {} : { name: failure.name }),
      error: failure.error,
    }
    emit('lifecycle.wait-failed', details)
    safeLog(options.logger, 'warn', 'lifecycle.wait-failed', details)
  }
  if (stillPending.length > 0) {
    const details = { requestId, pending: stillPending.length, names: stillPending, waitedMs }
    emit('lifecycle.wait-timeout', details)
    safeLog(options.logger, 'warn', 'lifecycle.wait-timeout', details)
  }
  return { pending: stillPending, failed: failures.map((f) => f.name ?? 'unnamed'), waitedMs }
}

/** Resolves true when `promise` resolves first, false when `ms` pass first. */
async function raceTimeout(promise: Promise<true>, ms: number): Promise<boolean> {
  if (!Number.isFinite(ms)) return promise
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, ms, false)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}
