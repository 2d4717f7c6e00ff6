import { WarmstartError } from '@warmstart/core'
import type { ReportedError } from './protocol.js'

/** The simulation was stopped: invocations in flight or queued are rejected with it. */
export function simulationStopped(): WarmstartError {
  return new WarmstartError('ERR_SIMULATION_STOPPED', 'simulateLambda: the simulation was stopped')
}

export function unknownEnvironment(id: string): WarmstartError {
  return new WarmstartError('ERR_UNKNOWN_ENVIRONMENT', `simulateLambda: no live environment "${id}"`)
}

export function environmentBusy(id: string): WarmstartError {
  return new WarmstartError(
    'ERR_ENVIRONMENT_BUSY',
    `simulateLambda: environment "${id}" is running an invocation; only idle environments can be reaped or shut down`,
  )
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2)
}

/** Lambda's report of an invocation that ran past the function's timeout. */
export function taskTimedOut(timeoutMs: number): ReportedError {
  return { name: 'TimeoutError', message: `Task timed out after ${seconds(timeoutMs)} seconds` }
}

/** Init ran past the timeout: the environment never became ready. */
export function initTimedOut(timeoutMs: number): ReportedError {
  return { name: 'TimeoutError', message: `Init timed out after ${seconds(timeoutMs)} seconds` }
}

/** Lambda's report of a runtime process that exited while it served an invocation. */
export function runtimeExited(
  requestId: string,
  exitCode: number | null,
  signal: string | null,
): ReportedError {
  const how = signal === null ? `exit status ${exitCode}` : `signal: ${signal}`
  return {
    name: 'Runtime.ExitError',
    message: `RequestId: ${requestId} Error: Runtime exited with error: ${how}`,
  }
}
