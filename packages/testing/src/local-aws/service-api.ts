import type { RequestBody } from './request-fields.js'
import type { LocalAwsService } from './types.js'

/** One operation of a service: the request member that holds the names it asks for, and its answer. */
export interface Operation {
  readonly namesField: string
  run(body: RequestBody): unknown
}

/** How a service is addressed (`X-Amz-Target: <targetPrefix>.<Operation>`) and how it words errors. */
export interface ServiceApi {
  readonly service: LocalAwsService
  readonly targetPrefix: string
  /** SSM writes `message`, Secrets Manager `Message`. */
  readonly messageKey: 'message' | 'Message'
  /** The `__type` of the service's 500 answer. */
  readonly internalErrorType: string
  readonly operations: ReadonlyMap<string, Operation>
}
