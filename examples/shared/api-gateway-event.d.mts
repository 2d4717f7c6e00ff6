import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda'

export declare function bearerToken(subject: string): string

export declare function httpApiEvent(request: {
  method: string
  path: string
  /** The JWT subject: the caller's user id. */
  subject: string
  /** Sent as JSON. */
  body?: unknown
}): APIGatewayProxyEventV2WithJWTAuthorizer
