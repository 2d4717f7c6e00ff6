import { AsyncLocalStorage } from 'node:async_hooks'
import {
  type LambdaContext,
  type Logger,
  onEvent,
  type WarmstartEvent,
  type WarmstartEventType,
} from '@warmstart/core'

/** Options of `lambdaContext()`. */
export interface LambdaContextOptions {
  /** What `getRemainingTimeInMillis()` answers at creation; it then counts down by `clock`. Default 30 s. */
  readonly remainingMs?: number
  /** `awsRequestId`; default a new `req-<n>` per context. */
  readonly requestId?: string
  readonly functionName?: string
  readonly memoryLimitInMB?: number
  /** The clock the deadline is read by (a `fakeClock()`); default the wall clock. */
  readonly clock?: { now(): number }
}

let contexts = 0

/**
 * A Lambda context for a handler or a middleware called in-process (a unit test, a Middy chain):
 * the fields the Node.js runtime sets, and a deadline that counts down by `clock`. Each call is a
 * new invocation, with a new request id unless one is given.
 */
export function lambdaContext(options: LambdaContextOptions = {}): LambdaContext {
  contexts += 1
  const clock = options.clock ?? Date
  const deadline = clock.now() + (options.remainingMs ?? 30_000)
  const functionName = options.functionName ?? 'test-function'
  const unsupported = (): never => {
    throw new Error(
      'lambdaContext(): the callback API (done/fail/succeed) is not supported; return a promise',
    )
  }
  return {
    awsRequestId: options.requestId ?? `req-${contexts}`,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 128),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  }
}

/** A promise settled from outside; see `deferred()`. */
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

/** A promise settled from outside, to hold a factory, a fetch or a validation at a chosen point. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** The events recorded by `recordEvents()`. */
export interface EventRecorder {
  readonly events: WarmstartEvent[]
  /** The recorded events of one type. */
  of<K extends WarmstartEventType>(type: K): Extract<WarmstartEvent, { type: K }>[]
  /** The types of the recorded events, in order. */
  types(): string[]
  /** Resolves with the next event of `type` recorded from now on: a readiness signal, not a sleep. */
  next<K extends WarmstartEventType>(type: K): Promise<Extract<WarmstartEvent, { type: K }>>
  /** Forgets what was recorded. */
  clear(): void
  /** Stops recording. */
  stop(): void
}

/**
 * An event's type. Through `WarmstartEvent` itself when every package is compiled together; this
 * reads it as a string because the package's own declaration build sees only core, where no
 * package has added its events yet and `WarmstartEvent` is `never`.
 */
function typeOf(event: WarmstartEvent): string {
  return (event as { readonly type: string }).type
}

/**
 * Records warmstart's events until `stop()`: every event, those whose type starts with a prefix
 * (`'pg.'`), or those a predicate keeps.
 */
export function recordEvents(filter?: string | ((event: WarmstartEvent) => boolean)): EventRecorder {
  const keep =
    filter === undefined
      ? () => true
      : typeof filter === 'string'
        ? (event: WarmstartEvent) => typeOf(event).startsWith(filter)
        : filter
  const events: WarmstartEvent[] = []
  const waiting: { type: WarmstartEventType; resolve: (event: WarmstartEvent) => void }[] = []
  const stop = onEvent((event) => {
    if (!keep(event)) return
    events.push(event)
    for (let i = waiting.length - 1; i >= 0; i--) {
      const waiter = waiting[i] as (typeof waiting)[number]
      if (waiter.type !== typeOf(event)) continue
      waiting.splice(i, 1)
      waiter.resolve(event)
    }
  })
  return {
    events,
    of: <K extends WarmstartEventType>(type: K) =>
      events.filter((event): event is Extract<WarmstartEvent, { type: K }> => typeOf(event) === type),
    types: () => events.map(typeOf),
    next: <K extends WarmstartEventType>(type: K) =>
      new Promise<Extract<WarmstartEvent, { type: K }>>((resolve) =>
        waiting.push({ type, resolve: resolve as (event: WarmstartEvent) => void }),
      ),
    clear: () => {
      events.length = 0
    },
    stop,
  }
}

/** One line a `recordingLogger()` received. */
export interface LoggedLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly message: string
  readonly details?: Record<string, unknown>
}

/** A logger that keeps what it is given; see `recordingLogger()`. */
export interface RecordingLogger extends Required<Logger> {
  readonly lines: LoggedLine[]
  /** Every line as `level message {details as JSON}`, one per line: what to search for a leaked secret. */
  text(): string
}

/** A logger of the shape components accept (Powertools' Logger, console) that records every line. */
export function recordingLogger(): RecordingLogger {
  const lines: LoggedLine[] = []
  const at =
    (level: LoggedLine['level']) =>
    (message: string, details?: Record<string, unknown>): void => {
      lines.push(details === undefined ? { level, message } : { level, message, details })
    }
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () =>
      lines
        .map(
          (line) =>
            `${line.level} ${line.message}${line.details === undefined ? '' : ` ${JSON.stringify(line.details)}`}`,
        )
        .join('\n'),
  }
}

/**
 * Waits for one turn of the event loop (a `setImmediate`), by which every promise callback queued
 * before it has run: what a test waits for instead of counting microtasks.
 */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The runtime's invoke store for in-process tests of Managed Instances; see `overlappingInvocations()`. */
export interface OverlappingInvocations {
  /**
   * Runs `fn` as invocation `requestId`, as the runtime runs a handler: `fn`, and everything it
   * awaits or schedules, sees that request id in the invoke store (`currentRequestId()`), whatever
   * other invocations run meanwhile. Returns what `fn` returns.
   */
  run<T>(requestId: string, fn: () => T): T
  /** Takes the store off `globalThis.awslambda` again, putting back what was there. */
  close(): void
}

interface Runtime {
  awslambda?: { InvokeStore?: unknown }
}

/**
 * Installs an invoke store like the one the Lambda runtime keeps under Managed Instances, where one
 * process serves several invocations at once (`globalThis.awslambda.InvokeStore`, backed by an
 * `AsyncLocalStorage`), so that overlapping invocations can be tested in one process. What
 * warmstart learns from a Lambda context (the invocation's deadline) it still learns from its
 * middlewares, as in production. Fake timers do not carry the store into their callbacks; real
 * ones do. Call `close()` after the test; installing a second one before that throws.
 */
export function overlappingInvocations(): OverlappingInvocations {
  const runtime = globalThis as Runtime
  const before = runtime.awslambda
  if (before?.InvokeStore !== undefined) {
    throw new Error('overlappingInvocations(): an invoke store is already installed; close() the other first')
  }
  const requests = new AsyncLocalStorage<string>()
  runtime.awslambda = {
    ...before,
    InvokeStore: {
      hasContext: () => requests.getStore() !== undefined,
      getRequestId: () => requests.getStore() ?? '-',
    },
  }
  let open = true
  return {
    run: (requestId, fn) => {
      if (!open) throw new Error('overlappingInvocations(): run() after close()')
      return requests.run(requestId, fn)
    },
    close: () => {
      if (!open) return
      open = false
      if (before === undefined) delete runtime.awslambda
      else runtime.awslambda = before
    },
  }
}
