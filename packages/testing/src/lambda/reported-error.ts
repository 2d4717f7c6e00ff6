import type { ReportedError } from './protocol.js'

/** An error thrown by user code, as the runtime reports it: name (Lambda's errorType), message, code. */
export function reportedError(error: unknown): ReportedError {
  if (typeof error !== 'object' || error === null) return { name: 'Error', message: String(error) }
  const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown }
  const reported: ReportedError = {
    name: typeof name === 'string' ? name : 'Error',
    message: typeof message === 'string' ? message : String(error),
  }
  if (typeof code === 'string') reported.code = code
  return reported
}

const MODULE_NOT_FOUND = ['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']

/**
 * An error thrown while the handler module loads, named as the Node.js runtime names it: a module
 * that cannot be found is Runtime.ImportModuleError, a syntax error Runtime.UserCodeSyntaxError,
 * anything else keeps its own name.
 */
export function initFailure(error: unknown): ReportedError {
  const reported = reportedError(error)
  if (reported.code !== undefined && MODULE_NOT_FOUND.includes(reported.code)) {
    return { ...reported, name: 'Runtime.ImportModuleError', message: `Error: ${reported.message}` }
  }
  if (reported.name === 'SyntaxError') {
    return { ...reported, name: 'Runtime.UserCodeSyntaxError', message: `SyntaxError: ${reported.message}` }
  }
  return reported
}
