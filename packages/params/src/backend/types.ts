/**
 * The five operations the providers use, as one interface with two implementations: the SDK one
 * (a caller's `SSMClient` / `SecretsManagerClient`) and the default one (AWS JSON 1.1 signed with
 * SigV4 over Node's own HTTP, no SDK loaded). Shapes are the services' wire shapes, so both paths
 * hand the providers the same objects and the providers check them the same way.
 */

/**
 * A caller's `SSMClient` made ready for `ssmParameters` by `fromSsmClient()` of
 * `'@warmstart/params/ssm-sdk'`, which sends the provider's requests through that client. Opaque:
 * only that function makes one (the provider checks it at run time too). The adapter lives in that
 * entry, which imports `@aws-sdk/client-ssm`, so that no other entry does: a bundle of the default
 * path carries neither the SDK nor the adapter.
 */
export interface SsmSdkClient {
  readonly kind: 'sdk'
  readonly service: 'SSM'
}

/**
 * A caller's `SecretsManagerClient` made ready for `secretsManager` by `fromSecretsManagerClient()`
 * of `'@warmstart/params/secrets-manager-sdk'`, which sends the provider's requests through that
 * client. Opaque: only that function makes one.
 */
export interface SecretsManagerSdkClient {
  readonly kind: 'sdk'
  readonly service: 'Secrets Manager'
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
