/**
 * The messages simulateLambda's parent process and the runner in each execution environment
 * exchange over the IPC channel (advanced serialization: structured clone, not JSON).
 */

/** An error as the runtime reports it: Lambda's errorType becomes `name`. */
export interface ReportedError {
  name: string
  message: string
  code?: string
}

/** Parent to runner: run the handler once. */
export interface InvokeMessage {
  type: 'invoke'
  requestId: string
  event: unknown
  /** Wall-clock milliseconds at which the invocation times out (getRemainingTimeInMillis). */
  deadline: number
}

/** Runner to parent: init finished, the environment takes invocations. */
export interface ReadyMessage {
  type: 'ready'
  initDurationMs: number
}

/** Runner to parent: the handler module could not be loaded; the environment is unusable. */
export interface InitErrorMessage {
  type: 'init-error'
  initDurationMs: number
  error: ReportedError
}

/** Runner to parent: one invocation finished. */
export interface ResultMessage {
  type: 'result'
  requestId: string
  durationMs: number
  ok: boolean
  result?: unknown
  error?: ReportedError
}

export type RunnerMessage = ReadyMessage | InitErrorMessage | ResultMessage

/**
 * Log lines written through `console` inside an invocation start with TAG, the request id and
 * TAG_END, so that the parent can attribute them when several invocations run at once. After an
 * invocation the runner writes END_MARK, the request id and a newline on stdout and on stderr:
 * once the parent has read both, every line that invocation printed has arrived.
 */
export const LOG_TAG = '\u001e'
export const LOG_TAG_END = '\u001f'
export const LOG_END_MARK = '\u001d'
