import type { Duration, LambdaContextLike, Logger, Middleware, MiddlewareRequest } from '@warmstart/core'
import {
  checkOptions,
  durationOption,
  emit,
  eventChannel,
  type InvocationInfo,
  loggerOption,
  logSafely,
  trackInvocation,
} from '@warmstart/core/internal'
import { DEFAULT_MARGIN_MS, hasBackgroundWork, Settlement, type SettleReport } from './background-work.js'
import { markEnded } from './ended-requests.js'
import {
  environment,
  firstStartKind,
  initDuration,
  initializationType,
  processStartedAt,
  type StartKind,
} from './environment.js'
import { jsonLinesLogger } from './log.js'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    /** Once per environment, at its first invocation: what init cost and whether a caller paid for it. */
    'lifecycle.init': {
      requestId: string
      initType: string
      startKind: StartKind
      initDurationMs: number
      callerPaidInit: boolean
    }
    /** At the end of every invocation. */
    'lifecycle.invoke': {
      requestId: string
      sequence: number
      coldStart: boolean
      startKind: StartKind
      outcome: 'success' | 'error'
      durationMs: number
      waitMs: number
      backgroundPending: number
      backgroundFailed: number
      environmentAgeMs: number
    }
  }
}

export interface LifecycleMiddlewareOptions {
  /**
   * Where the `lifecycle.init` and `lifecycle.invoke` records (info) and background-work reports
   * (warn) go. Default: JSON lines on stdout. `false` turns logging off; events are still emitted.
   */
  logger?: Logger | false
  /**
   * Time kept free before the invocation's deadline when waiting for `waitUntil` work, so the
   * response still goes out. Default `'500ms'`.
   */
  margin?: Duration
  /** The longest to wait for `waitUntil` work, whatever time remains. Default: no limit but the deadline. */
  maxWait?: Duration
}

const COMPONENT = 'lifecycleMiddleware'
const invokeChannel = /* @__PURE__ */ eventChannel('lifecycle.invoke')

/**
 * Reports init and each invocation, and waits for the invocation's `waitUntil` work in `after`
 * and `onError`, bounded by `context.getRemainingTimeInMillis()` minus `margin`. Background work
 * never changes the invocation's outcome: its failures and what did not finish are reported.
 * Put it early in the chain (right after `leakGuardMiddleware()`, which must be outermost, or first
 * when there is none), so its `after` runs once every inner middleware is done.
 */
export function lifecycleMiddleware(options: LifecycleMiddlewareOptions = {}): Middleware {
  checkOptions(COMPONENT, options, ['logger', 'margin', 'maxWait'])
  const logger = resolveLogger(options.logger)
  const marginMs = durationOption(COMPONENT, 'margin', options.margin, DEFAULT_MARGIN_MS)
  const maxWaitMs = durationOption(COMPONENT, 'maxWait', options.maxWait, Number.POSITIVE_INFINITY)

  function begin(context: LambdaContextLike): InvocationInfo {
    const info = trackInvocation(context)
    if (!environment.active.has(info.requestId)) {
      environment.active.set(info.requestId, info)
      if (info.coldStart && environment.first === undefined) reportInit(info, logger)
    }
    return info
  }

  // Synchronous unless there is background work to wait for: nearly every invocation has none.
  function end(request: MiddlewareRequest, outcome: Outcome): Promise<void> | undefined {
    if (!markEnded(request)) return undefined
    const info = begin(request.context)
    if (!hasBackgroundWork(info.requestId)) {
      environment.active.delete(info.requestId)
      reportInvoke(info, outcome, NO_BACKGROUND_WORK)
      return undefined
    }
    return endAfterWork(info, outcome, waitBudget(request.context, marginMs, maxWaitMs))
  }

  async function endAfterWork(info: InvocationInfo, outcome: Outcome, budgetMs: number): Promise<void> {
    const settlement = new Settlement(info.requestId)
    const waitedMs = await settlement.wait(budgetMs)
    // In the same synchronous step as the report: work registered later belongs to the next invocation.
    environment.active.delete(info.requestId)
    reportInvoke(info, outcome, settlement.report(waitedMs, logger))
  }

  function reportInvoke(info: InvocationInfo, outcome: Outcome, work: SettleReport): void {
    if (logger === undefined && !invokeChannel.active) return
    const now = Date.now()
    const details = {
      requestId: info.requestId,
      sequence: info.sequence,
      coldStart: info.coldStart,
      startKind: info.coldStart ? firstStartKind() : ('warm' as const),
      outcome,
      durationMs: now - info.startedAt,
      waitMs: work.waitedMs,
      backgroundPending: work.pending.length,
      backgroundFailed: work.failed.length,
      environmentAgeMs: now - processStartedAt(),
    }
    invokeChannel.publish(details)
    logSafely(logger, 'info', 'lifecycle.invoke', details)
  }

  return {
    before: (request) => {
      begin(request.context)
    },
    after: (request) => end(request, 'success'),
    onError: (request) => end(request, 'error'),
  }
}

type Outcome = 'success' | 'error'

const NO_BACKGROUND_WORK: SettleReport = /* @__PURE__ */ Object.freeze({
  pending: [],
  failed: [],
  waitedMs: 0,
})

function reportInit(info: InvocationInfo, logger: Logger | undefined): void {
  environment.first = { requestId: info.requestId, startedAt: info.startedAt }
  const initType = initializationType()
  const kind = firstStartKind(initType)
  const details = {
    requestId: info.requestId,
    initType,
    startKind: kind,
    initDurationMs: initDuration()!,
    callerPaidInit: kind === 'cold',
  }
  emit('lifecycle.init', details)
  logSafely(logger, 'info', 'lifecycle.init', details)
}

/** Milliseconds left for background work: the invocation's remaining time minus the margin. */
function waitBudget(context: LambdaContextLike, marginMs: number, maxWaitMs: number): number {
  const remaining = context.getRemainingTimeInMillis?.()
  const beforeDeadline =
    typeof remaining === 'number' && Number.isFinite(remaining)
      ? Math.max(0, remaining - marginMs)
      : Number.POSITIVE_INFINITY
  return Math.min(beforeDeadline, maxWaitMs)
}

function resolveLogger(logger: Logger | false | undefined): Logger | undefined {
  if (logger === false) return undefined
  if (logger === undefined) return jsonLinesLogger
  return loggerOption(COMPONENT, logger, 'false')
}
