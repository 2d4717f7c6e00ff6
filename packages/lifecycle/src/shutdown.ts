import { type Duration, type Logger, WarmstartError } from '@warmstart/core'
import {
  checkOptions,
  describeValue,
  durationOption,
  emit,
  invalidOption,
  loggerOption,
  logSafely,
  processWide,
} from '@warmstart/core/internal'
import { describeFailure } from './failure.js'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    /** SIGTERM was handled: how many shutdown handlers ran, and how they ended. */
    'lifecycle.shutdown': {
      handlers: number
      completed: number
      failed: number
      timedOut: number
      durationMs: number
    }
  }
}

export type ShutdownHandler = () => void | Promise<void>

export interface ShutdownOptions {
  /**
   * How long the handlers may run, together, before the process exits anyway. Default `'250ms'`:
   * Lambda gives the runtime up to 300 ms after SIGTERM (500 ms with an internal extension) before
   * it sends SIGKILL.
   */
  deadline?: Duration
  /** Where failures and timed-out handlers are reported. */
  logger?: Logger
}

/** The parts of `process` shutdown handling touches; a seam so tests can drive it in-process. */
export interface ShutdownHost {
  on(signal: 'SIGTERM', listener: () => void): unknown
  off(signal: 'SIGTERM', listener: () => void): unknown
  exit(code: number): void
}

const COMPONENT = 'configureShutdown'
const DEFAULT_DEADLINE_MS = 250
/** What Lambda gives the runtime after SIGTERM at most (with an internal extension) before SIGKILL. */
const MAX_DEADLINE_MS = 500

export interface ShutdownRegistry {
  onShutdown(fn: ShutdownHandler): () => void
  configure(options: ShutdownOptions): void
}

/**
 * Handlers run on SIGTERM, all at once, bounded by the deadline; then the process exits with
 * code 0. Listening to SIGTERM turns off Node's default exit on that signal, so the listener is
 * installed only while at least one handler is registered, and this module exits itself.
 */
export function createShutdownRegistry(host: ShutdownHost): ShutdownRegistry {
  const handlers = new Set<{ fn: ShutdownHandler }>()
  let deadlineMs = DEFAULT_DEADLINE_MS
  let logger: Logger | undefined
  let shuttingDown = false

  const listener = (): void => {
    if (shuttingDown) return
    shuttingDown = true
    // Whatever happens while reporting, the process still exits: a rejection here would be an
    // uncaught exception (exit 1, no report) in the last moments of the environment.
    void runHandlers([...handlers].map((h) => h.fn))
      .catch(() => {})
      .then(() => host.exit(0))
  }

  async function runHandlers(fns: ShutdownHandler[]): Promise<void> {
    const started = Date.now()
    let completed = 0
    let failed = 0
    let timer: NodeJS.Timeout | undefined
    const settled = Promise.all(
      fns.map((fn) =>
        Promise.resolve()
          .then(fn)
          .then(
            () => {
              completed++
            },
            (error: unknown) => {
              failed++
              logSafely(logger, 'error', 'lifecycle.shutdown-failed', { error: describeFailure(error) })
            },
          ),
      ),
    )
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs)
    })
    await Promise.race([settled, expired])
    clearTimeout(timer)
    const timedOut = fns.length - completed - failed
    if (timedOut > 0) {
      logSafely(logger, 'warn', 'lifecycle.shutdown-timeout', { timedOut, handlers: fns.length, deadlineMs })
    }
    emit('lifecycle.shutdown', {
      handlers: fns.length,
      completed,
      failed,
      timedOut,
      durationMs: Date.now() - started,
    })
  }

  return {
    onShutdown(fn) {
      if (typeof fn !== 'function') {
        throw new WarmstartError(
          'ERR_INVALID_ARGUMENT',
          `onShutdown: expected a function (got ${describeValue(fn)})`,
        )
      }
      const registration = { fn }
      if (handlers.size === 0) host.on('SIGTERM', listener)
      handlers.add(registration)
      return () => {
        if (!handlers.delete(registration)) return
        if (handlers.size === 0) host.off('SIGTERM', listener)
      }
    },
    configure(options) {
      checkOptions(COMPONENT, options, ['deadline', 'logger'])
      const deadline = durationOption(COMPONENT, 'deadline', options.deadline, deadlineMs)
      if (deadline > MAX_DEADLINE_MS) {
        throw invalidOption(
          COMPONENT,
          'deadline',
          `must be at most ${MAX_DEADLINE_MS} ms: Lambda sends SIGKILL 300 ms after SIGTERM (500 ms with an internal extension) (got ${describeValue(options.deadline)})`,
        )
      }
      const configured = loggerOption(COMPONENT, options.logger)
      deadlineMs = deadline
      if (configured !== undefined) logger = configured
    },
  }
}

const processRegistry = /* @__PURE__ */ processWide('lifecycle:shutdown', () =>
  createShutdownRegistry(process),
)

/**
 * Registers `fn` to run when Lambda shuts the environment down (SIGTERM, sent only when the
 * function has at least one extension registered). Handlers run in parallel within the deadline
 * (see `configureShutdown`), then the process exits with code 0. Returns the function that
 * unregisters `fn`.
 */
export function onShutdown(fn: () => void | Promise<void>): () => void {
  return processRegistry.onShutdown(fn)
}

/** Sets the shutdown deadline and the logger for the whole process. */
export function configureShutdown(options: ShutdownOptions): void {
  processRegistry.configure(options)
}
