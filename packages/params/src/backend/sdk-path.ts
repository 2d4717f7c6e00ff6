/**
 * The SDK path of each provider: what its `client` option takes and which entry makes it, for the
 * checks of the provider (index.ts) and of the entry (sdk-backend.ts) and their messages.
 */
export interface SdkPath {
  readonly service: 'SSM' | 'Secrets Manager'
  /** The adapter's operations, which the provider calls. */
  readonly operations: readonly string[]
  /** The function that makes the adapter, such as 'fromSsmClient'. */
  readonly maker: string
  /** The entry it comes from, such as '@warmstart/params/ssm-sdk'. */
  readonly entry: string
  /** The SDK client it wraps, such as 'an SSMClient'. */
  readonly clientName: string
}

export const SSM_PATH: SdkPath = {
  service: 'SSM',
  operations: ['getParameter', 'getParameters', 'getParametersByPath'],
  maker: 'fromSsmClient',
  entry: '@warmstart/params/ssm-sdk',
  clientName: 'an SSMClient',
}

export const SECRETS_PATH: SdkPath = {
  service: 'Secrets Manager',
  operations: ['getSecretValue', 'batchGetSecretValue'],
  maker: 'fromSecretsManagerClient',
  entry: '@warmstart/params/secrets-manager-sdk',
  clientName: 'a SecretsManagerClient',
}
