import { currentRequestId, type Logger, WarmstartError } from '@warmstart/core'
import {
  checkOptions,
  describeValue,
  durationOption,
  emit,
  invalidOption,
  loggerOption,
  logSafely,
  processWide,
  timeBudget,
} from '@warmstart/core/internal'
import { environment } from './environment.js'
import { describeFailure } from './failure.js'

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

/**
 * Buckets exist only for invocations that registered work, so that an invocation without any
 * (nearly all of them) allocates nothing here and ends without waiting.
 */
const buckets = /* @__PURE__ */ processWide(
  'lifecycle:background-work',
  () => new Map<string | typeof UNATTRIBUTED, Bucket>(),
)

/**
 * Registers work that must finish before the invocation ends: Lambda freezes the process as soon
 * as the handler returns, and frozen work resumes only at the next thaw, if ever. The work is
 * attributed to the invocation the caller runs in (`currentRequestId()`), so under Managed
 * Instances each invocation waits for its own work only. Work started outside any invocation the
 * lifecycle middleware is inside is awaited by the next invocation to end. Its failure is
 * reported, never thrown.
 */
export function waitUntil(promise: PromiseLike<unknown>, options: WaitUntilOptions = {}): void {
  if (
    promise === null ||
    (typeof promise !== 'object' && typeof promise !== 'function') ||
    typeof (promise as { then?: unknown }).then !== 'function'
  ) {
    // A value that is not a promise is finished already: passing one is a mistake (a missing call,
    // `waitUntil(flush)` for `waitUntil(flush())`) that would otherwise wait for nothing in silence.
    throw new WarmstartError(
      'ERR_INVALID_ARGUMENT',
      `waitUntil: expected a promise of the work to wait for (got ${describeValue(promise)})`,
    )
  }
  checkOptions('waitUntil', options, ['name'])
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === ''))
    throw invalidOption(
      'waitUntil',
      'name',
      `must be a non-empty string (got ${describeValue(options.name)})`,
    )
  const requestId = currentRequestId()
  const key = requestId !== undefined && environment.active.has(requestId) ? requestId : UNATTRIBUTED
  let bucket = buckets.get(key)
  if (bucket === undefined) {
    bucket = { pending: new Set(), failures: [] }
    buckets.set(key, bucket)
  }
  const own = bucket
  const name = options.name
  const work: Work = {
    name,
    done: Promise.resolve(promise).then(
      () => {
        own.pending.delete(work)
      },
      (error: unknown) => {
        own.pending.delete(work)
        own.failures.push({ name, error: describeFailure(error) })
      },
    ),
  }
  own.pending.add(work)
}

/** Whether settling `requestId` has anything to wait for or report: false for nearly every invocation. */
export function hasBackgroundWork(requestId: string): boolean {
  return buckets.size !== 0 && (buckets.has(requestId) || buckets.has(UNATTRIBUTED))
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
  /**
   * How long to wait at most, in milliseconds; `Infinity` for no limit.
   * Default: what is left of the invocation the caller runs in, less `DEFAULT_MARGIN_MS`, so the
   * response still goes out; outside any invocation warmstart has seen, until everything has settled.
   */
  budgetMs?: number
  logger?: Logger | undefined
}

/** Time kept free before the invocation's deadline when waiting for background work (the middleware's `margin` default). */
export const DEFAULT_MARGIN_MS = 500

const SETTLE = 'settleBackgroundWork'

/**
 * Waits for the background work of one invocation (and any unattributed work), at most
 * `budgetMs`, then reports what did not finish (`lifecycle.wait-timeout`) and what failed
 * (`lifecycle.wait-failed`). The work's failures never make it reject; a bad option does
 * (`ERR_INVALID_OPTION`): a misspelt budget ignored in silence would wait for ever.
 * `lifecycleMiddleware` calls it at the end of each invocation; call it yourself at the end of a
 * handler that does not use Middy.
 */
export async function settleBackgroundWork(options: SettleOptions = {}): Promise<SettleReport> {
  checkOptions(SETTLE, options, ['requestId', 'budgetMs', 'logger'])
  if (options.requestId !== undefined && typeof options.requestId !== 'string')
    throw invalidOption(
      SETTLE,
      'requestId',
      `must be a request id string (got ${describeValue(options.requestId)})`,
    )
  const logger = loggerOption(SETTLE, options.logger)
  // Within the invocation's time by default: work that never settles must not hold it past its deadline.
  const budgetMs =
    options.budgetMs === undefined
      ? timeBudget(Number.POSITIVE_INFINITY, DEFAULT_MARGIN_MS)
      : durationOption(SETTLE, 'budgetMs', options.budgetMs, 0, true)
  const settlement = new Settlement(options.requestId ?? currentRequestId() ?? 'unknown')
  const waitedMs = await settlement.wait(budgetMs)
  return settlement.report(waitedMs, logger)
}

/**
 * Settling one invocation's work in two steps, so that `lifecycleMiddleware` can end the
 * invocation in the same synchronous step as `report`: work registered after that goes to the
 * next invocation instead of a bucket nobody settles.
 */
export class Settlement {
  /** Unattributed work is taken when settling starts; what is started later waits for the next invocation. */
  private readonly unattributed: Bucket | undefined

  constructor(readonly requestId: string) {
    this.unattributed = buckets.get(UNATTRIBUTED)
    buckets.delete(UNATTRIBUTED)
  }

  /** The buckets to settle: the invocation's own may be created while waiting, by work that registers work. */
  private mine(): Bucket[] {
    const own = buckets.get(this.requestId)
    const mine: Bucket[] = []
    if (own !== undefined) mine.push(own)
    if (this.unattributed !== undefined) mine.push(this.unattributed)
    return mine
  }

  /** Waits until the work has settled or `budgetMs` has passed; returns the milliseconds waited. */
  async wait(budgetMs: number): Promise<number> {
    const started = Date.now()
    const deadline = started + budgetMs
    // Loop: work may register more work while it runs.
    for (;;) {
      const pending = this.mine().flatMap((b) => [...b.pending])
      if (pending.length === 0) break
      const remaining = deadline - Date.now()
      if (remaining <= 0) break
      const allDone = Promise.all(pending.map((w) => w.done)).then(() => true as const)
      if (!(await raceTimeout(allDone, remaining))) break
    }
    return Date.now() - started
  }

  /** Forgets the invocation's work and reports what failed and what is still running. */
  report(waitedMs: number, logger: Logger | undefined): SettleReport {
    const mine = this.mine()
    buckets.delete(this.requestId)
    const requestId = this.requestId
    const stillPending = mine.flatMap((b) => [...b.pending].map((w) => w.name ?? 'unnamed'))
    const failures = mine.flatMap((b) => b.failures.splice(0))
    for (const failure of failures) {
      const details = {
        requestId,
        ...(failure.name === undefined ? {} : { name: failure.name }),
        error: failure.error,
      }
      emit('lifecycle.wait-failed', details)
      logSafely(logger, 'warn', 'lifecycle.wait-failed', details)
    }
    if (stillPending.length > 0) {
      const details = { requestId, pending: stillPending.length, names: stillPending, waitedMs }
      emit('lifecycle.wait-timeout', details)
      logSafely(logger, 'warn', 'lifecycle.wait-timeout', details)
    }
    return { pending: stillPending, failed: failures.map((f) => f.name ?? 'unnamed'), waitedMs }
  }
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
