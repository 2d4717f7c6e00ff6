/**
 * The five operations the providers use, as one interface with two implementations: the SDK one
 * (a caller's `SSMClient` / `SecretsManagerClient`) and the default one (AWS JSON 1.1 signed with
 * SigV4 over Node's own HTTP, no SDK loaded). Shapes are the services' wire shapes, so both paths
 * hand the providers the same objects and the providers check them the same way.
 */

/**
 * An AWS SDK v3 client, declared by its shape so that these declarations name no SDK: a function
 * that passes no client type-checks with no SDK installed.
 */
export interface SdkClient {
  send(command: never, options?: never): Promise<unknown>
  readonly config: object
}

/** An SDK command class, such as `GetParameterCommand`. */
export type SdkCommand = new (input: never) => unknown

/**
 * A caller's `SSMClient` with the three commands `ssmParameters` sends through it, as
 * `fromSsmClient()` of `'@warmstart/params/ssm-sdk'` makes it. The commands come from that entry,
 * which imports `@aws-sdk/client-ssm`, so that no other entry does: a bundle of the default path
 * carries no SDK.
 */
export interface SsmSdkClient {
  readonly service: 'SSM'
  readonly client: SdkClient
  readonly commands: {
    readonly getParameter: SdkCommand
    readonly getParameters: SdkCommand
    readonly getParametersByPath: SdkCommand
  }
}

/**
 * A caller's `SecretsManagerClient` with the two commands `secretsManager` sends through it, as
 * `fromSecretsManagerClient()` of `'@warmstart/params/secrets-manager-sdk'` makes it.
 */
export interface SecretsManagerSdkClient {
  readonly service: 'Secrets Manager'
  readonly client: SdkClient
  readonly commands: {
    readonly getSecretValue: SdkCommand
    readonly batchGetSecretValue: SdkCommand
  }
}

/** Given on every call: the engine aborts it when the invocation's budget for the fetch runs out. */
export interface CallOptions {
  /** When it aborts, the call rejects with `signal.reason` (on both paths), retries included. */
  readonly signal: AbortSignal
}

/** A parameter as GetParameter, GetParameters and GetParametersByPath return it. */
export interface WireParameter {
  readonly Name?: string
  readonly Value?: string
  readonly Type?: string
  readonly Selector?: string
  readonly ARN?: string
}

export interface GetParametersOutput {
  readonly Parameters?: readonly WireParameter[]
  readonly InvalidParameters?: readonly string[]
}

export interface GetParametersByPathInput {
  readonly Path: string
  readonly Recursive: boolean
  readonly WithDecryption: boolean
  readonly MaxResults: number
  readonly NextToken?: string
}

export interface GetParametersByPathOutput {
  readonly Parameters?: readonly WireParameter[]
  readonly NextToken?: string
}

/** A secret value as GetSecretValue and BatchGetSecretValue return it (SecretBinary decoded). */
export interface WireSecret {
  readonly Name?: string
  readonly ARN?: string
  readonly SecretString?: string
  readonly SecretBinary?: Uint8Array
}

export interface BatchGetSecretValueOutput {
  readonly SecretValues?: readonly WireSecret[]
  readonly Errors?: readonly { readonly SecretId?: string; readonly ErrorCode?: string }[]
}

export interface SsmBackend {
  /** 'sdk' or 'http': which path serves this provider (for tests and docs). */
  readonly kind: BackendKind
  getParameter(
    input: { Name: string; WithDecryption: boolean },
    options: CallOptions,
  ): Promise<{ readonly Parameter?: WireParameter }>
  getParameters(
    input: { Names: readonly string[]; WithDecryption: boolean },
    options: CallOptions,
  ): Promise<GetParametersOutput>
  getParametersByPath(
    input: GetParametersByPathInput,
    options: CallOptions,
  ): Promise<GetParametersByPathOutput>
}

export interface SecretsBackend {
  readonly kind: BackendKind
  getSecretValue(
    input: { SecretId: string; VersionStage?: string | undefined },
    options: CallOptions,
  ): Promise<WireSecret>
  batchGetSecretValue(
    input: { SecretIdList: readonly string[] },
    options: CallOptions,
  ): Promise<BatchGetSecretValueOutput>
}

export type BackendKind = 'sdk' | 'http'
