import type { Clock } from '@warmstart/core'

/** The two services the local endpoint speaks. */
export type LocalAwsService = 'ssm' | 'secretsmanager'

/** The types of an SSM parameter. */
export type LocalAwsParameterType = 'String' | 'StringList' | 'SecureString'

/** A parameter to seed or put: its value (a StringList is comma-joined), type and labels. */
export interface SeedParameter {
  value: string
  /** Default 'String'. */
  type?: LocalAwsParameterType
  /** Labels for the new version; a label already on another version moves to this one. */
  labels?: string[]
}

/** What a test can break on purpose. */
export type LocalAwsFaultKind = 'throttle' | 'server-error' | 'latency' | 'hang' | 'drop' | 'respond'

export interface LocalAwsFault {
  /** Only requests to this service (default: both). */
  service?: LocalAwsService
  /** Only this operation, such as 'GetParameter' (default: every operation). */
  operation?: string
  /**
   * throttle: 400 ThrottlingException "Rate exceeded"; server-error: 500 InternalServerError (SSM) or
   * InternalServiceError (Secrets Manager); latency: `latencyMs` before the answer; hang: no answer
   * until the client gives up or `stop()`; drop: the socket is destroyed without an answer;
   * respond: `body` as it is, with `status` (default 200), for answers the services should never
   * give (a body that is not JSON, a parameter without `Value`) and errors no fault names
   * (`{"__type":"AccessDeniedException"}` with status 400).
   */
  kind: LocalAwsFaultKind
  /** How many requests it affects: default 1; `Infinity` until `clearFaults()`. */
  times?: number
  /** Required for kind 'latency': milliseconds added before answering. */
  latencyMs?: number
  /** Required for kind 'respond': the body sent, as it is. */
  body?: string
  /** For kind 'respond': the HTTP status. Default 200. */
  status?: number
  /** For kind 'respond': headers sent with it, such as `x-amzn-errortype`. */
  headers?: Record<string, string>
}

/** One request that reached the server, faulted or not. */
export interface LocalAwsCall {
  readonly service: LocalAwsService
  readonly operation: string
  /** The parameter names, path or secret ids the request asked for. */
  readonly names: readonly string[]
  /** Wall-clock milliseconds from the endpoint's clock. */
  readonly time: number
  /**
   * With `verifySignatures`: 'verified' when the signature was computed again and matched,
   * 'shape-only' when it was signed with credentials other than the endpoint's (only its form is
   * checked). Undefined without `verifySignatures`. A request whose signature fails is recorded too.
   */
  readonly signature?: 'verified' | 'shape-only' | 'rejected'
}

export interface LocalAwsCallFilter {
  service?: LocalAwsService
  operation?: string
}

export interface LocalAwsOptions {
  /** Parameters to seed: a string is a String parameter. */
  parameters?: Record<string, string | SeedParameter>
  /** Secrets to seed: a string becomes SecretString, a Uint8Array SecretBinary. */
  secrets?: Record<string, string | Uint8Array>
  /** Where LastModifiedDate, CreatedDate and call times come from (default: the system clock). */
  clock?: Clock
  /**
   * Check every request's SigV4 signature as the services do (default false): an unsigned request
   * is answered 400 MissingAuthenticationTokenException, a wrong signature 403
   * InvalidSignatureException, a missing or wrong session token 403 UnrecognizedClientException.
   * Requests signed with `clientConfig`'s credentials are verified in full; others by shape only.
   */
  verifySignatures?: boolean
  /** A session token that goes with the endpoint's credentials: in `clientConfig` and `env`, and required on requests. */
  sessionToken?: string
}

/** What the AWS SDK v3 clients need to talk to the local endpoint: spread it into their config. */
export interface LocalAwsClientConfig {
  readonly endpoint: string
  readonly region: string
  readonly credentials: {
    readonly accessKeyId: string
    readonly secretAccessKey: string
    readonly sessionToken?: string
  }
}

export interface LocalAws {
  /** 'http://127.0.0.1:<port>' */
  readonly endpoint: string
  /** `new SSMClient({ ...aws.clientConfig })`, `new SecretsManagerClient({ ...aws.clientConfig })` */
  readonly clientConfig: LocalAwsClientConfig
  /**
   * Environment variables that point SDK clients created without an endpoint (`new SSMClient({})`,
   * as a handler does) at this endpoint: AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_SECRETS_MANAGER,
   * AWS_REGION and dummy credentials. Pass them to `simulateLambda({ env })`.
   */
  readonly env: Readonly<Record<string, string>>
  /** Creates the parameter or adds a version to it; returns the new version number. */
  putParameter(name: string, value: string | SeedParameter): number
  /** Creates the secret, or puts a new AWSCURRENT version as PutSecretValue does. */
  putSecret(id: string, value: string | Uint8Array): void
  /** A new version becomes AWSCURRENT, the current one AWSPREVIOUS, the previous one loses its stage. */
  rotateSecret(id: string, value: string | Uint8Array): void
  /** Every request that reached the server, in order of arrival (a copy). */
  readonly calls: readonly LocalAwsCall[]
  callCount(filter?: LocalAwsCallFilter): number
  resetCalls(): void
  injectFault(fault: LocalAwsFault): void
  clearFaults(): void
  /** Closes the server and destroys every open socket, hung requests included. */
  stop(): Promise<void>
}
