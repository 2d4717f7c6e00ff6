import type * as SecretsSdk from '@aws-sdk/client-secrets-manager'
import type * as SsmSdk from '@aws-sdk/client-ssm'
import { MalformedResponseError } from './errors.js'
import type { CallOptions, SecretsBackend, SsmBackend } from './types.js'

/**
 * Runs one SDK call so that it fails as the HTTP path does: `signal.reason` once the signal has
 * aborted (the SDK's own is a generic AbortError), and a MalformedResponseError for a body the
 * SDK could not parse (a SyntaxError carrying `$metadata`). Service errors are the SDK's own
 * exceptions, which the HTTP path's AwsServiceError is shaped like.
 */
async function call<T>(operation: string, { signal }: CallOptions, send: () => Promise<T>): Promise<T> {
  signal.throwIfAborted()
  try {
    return await send()
  } catch (error) {
    if (signal.aborted) throw signal.reason
    if (error instanceof SyntaxError && '$metadata' in error) {
      throw new MalformedResponseError(operation, 'the body is not JSON')
    }
    throw error
  }
}

/** The SDK path for a caller's SSMClient; the SDK module is the caller's, loaded at the first call. */
export function sdkSsmBackend(client: SsmSdk.SSMClient, load: () => Promise<typeof SsmSdk>): SsmBackend {
  return {
    kind: 'sdk',
    async getParameter(input, options) {
      const sdk = await load()
      return call('GetParameter', options, () =>
        client.send(new sdk.GetParameterCommand(input), { abortSignal: options.signal }),
      )
    },
    async getParameters(input, options) {
      const sdk = await load()
      return call('GetParameters', options, () =>
        client.send(new sdk.GetParametersCommand({ ...input, Names: [...input.Names] }), {
          abortSignal: options.signal,
        }),
      )
    },
    async getParametersByPath(input, options) {
      const sdk = await load()
      return call('GetParametersByPath', options, () =>
        client.send(new sdk.GetParametersByPathCommand(input), { abortSignal: options.signal }),
      )
    },
  }
}

export function sdkSecretsBackend(
  client: SecretsSdk.SecretsManagerClient,
  load: () => Promise<typeof SecretsSdk>,
): SecretsBackend {
  return {
    kind: 'sdk',
    async getSecretValue(input, options) {
      const sdk = await load()
      return call('GetSecretValue', options, () =>
        client.send(new sdk.GetSecretValueCommand(input), { abortSignal: options.signal }),
      )
    },
    async batchGetSecretValue(input, options) {
      const sdk = await load()
      return call('BatchGetSecretValue', options, () =>
        client.send(new sdk.BatchGetSecretValueCommand({ SecretIdList: [...input.SecretIdList] }), {
          abortSignal: options.signal,
        }),
      )
    },
  }
}
