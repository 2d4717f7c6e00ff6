/**
 * An error answer of the AWS JSON 1.1 protocol: the HTTP status and the body's `__type`, which the
 * SDK maps to its own exception class, and the message (SSM writes `message`, Secrets Manager
 * `Message`; the SDK reads both). Some real errors carry no message at all (SSM's ParameterNotFound).
 */
export class ServiceError extends Error {
  readonly status: number
  readonly type: string
  readonly detail: string | undefined

  constructor(status: number, type: string, detail?: string) {
    super(detail ?? type)
    this.status = status
    this.type = type
    this.detail = detail
  }
}

/** 400 ValidationException with the wording of the services' request validation. */
export function validationError(detail: string): ServiceError {
  return new ServiceError(400, 'ValidationException', `1 validation error detected: ${detail}`)
}

/** What both services answer when a request rate is exceeded. */
export const throttlingError = (): ServiceError =>
  new ServiceError(400, 'ThrottlingException', 'Rate exceeded')
