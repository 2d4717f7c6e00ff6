import { WarmstartError } from '@warmstart/core'

/**
 * An error answer of an AWS service on the default (HTTP) path, shaped like the SDK's own service
 * exceptions so that both paths are handled alike: `name` is the service's error type
 * (`ParameterNotFound`, `ThrottlingException`, `AccessDeniedException`), `$metadata.httpStatusCode`
 * the status, `$fault` who is to blame. The message is the service's, which never holds a value.
 */
export class AwsServiceError extends Error {
  readonly code: string
  readonly $fault: 'client' | 'server'
  readonly $metadata: { readonly httpStatusCode: number; readonly requestId: string | undefined }

  constructor(type: string, status: number, message: string | undefined, requestId: string | undefined) {
    super(message === undefined || message === '' ? `${type} (HTTP ${status})` : message)
    this.name = type
    this.code = type
    this.$fault = status >= 500 ? 'server' : 'client'
    this.$metadata = { httpStatusCode: status, requestId }
  }
}

/**
 * A service answered with something that is not what the operation returns: a body that is not
 * JSON, a parameter without `Value`, a secret with neither `SecretString` nor `SecretBinary`.
 * Never cached as a value. The message names the operation and what was missing, never the body.
 */
export class MalformedResponseError extends WarmstartError {
  readonly operation: string

  constructor(operation: string, problem: string, options?: { cause?: unknown }) {
    super('ERR_PARAMS_MALFORMED_RESPONSE', `${operation}: malformed answer (${problem})`, options)
    this.name = 'MalformedResponseError'
    this.operation = operation
  }
}
