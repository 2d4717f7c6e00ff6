import { MalformedResponseError } from './errors.js'
import type {
  CallOptions,
  SdkCommand,
  SecretsBackend,
  SecretsManagerSdkClient,
  SsmBackend,
  SsmSdkClient,
} from './types.js'

/**
 * Sends one command through a caller's client so that it fails as the HTTP path does:
 * `signal.reason` once the signal has aborted (the SDK's own is a generic AbortError), and a
 * MalformedResponseError for a body the SDK could not parse (a SyntaxError carrying `$metadata`).
 * Service errors are the SDK's own exceptions, which the HTTP path's AwsServiceError is shaped like.
 */
async function send<T>(
  { client }: { readonly client: SsmSdkClient['client'] },
  operation: string,
  Command: SdkCommand,
  input: object,
  { signal }: CallOptions,
): Promise<T> {
  signal.throwIfAborted()
  const sendCommand = client.send.bind(client) as unknown as (command: unknown, options: object) => Promise<T>
  try {
    return await sendCommand(new Command(input as never), { abortSignal: signal })
  } catch (error) {
    if (signal.aborted) throw signal.reason
    if (error instanceof SyntaxError && '$metadata' in error) {
      throw new MalformedResponseError(operation, 'the body is not JSON')
    }
    throw error
  }
}

/** The SDK path: a caller's SSMClient, with the commands its `fromSsmClient()` brought. */
export function sdkSsmBackend(sdk: SsmSdkClient): SsmBackend {
  const { commands } = sdk
  return {
    kind: 'sdk',
    getParameter: (input, options) => send(sdk, 'GetParameter', commands.getParameter, input, options),
    getParameters: (input, options) =>
      send(sdk, 'GetParameters', commands.getParameters, { ...input, Names: [...input.Names] }, options),
    getParametersByPath: (input, options) =>
      send(sdk, 'GetParametersByPath', commands.getParametersByPath, input, options),
  }
}

export function sdkSecretsBackend(sdk: SecretsManagerSdkClient): SecretsBackend {
  const { commands } = sdk
  return {
    kind: 'sdk',
    getSecretValue: (input, options) => send(sdk, 'GetSecretValue', commands.getSecretValue, input, options),
    batchGetSecretValue: (input, options) =>
      send(
        sdk,
        'BatchGetSecretValue',
        commands.batchGetSecretValue,
        { SecretIdList: [...input.SecretIdList] },
        options,
      ),
  }
}
