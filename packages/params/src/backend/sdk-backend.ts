import { WarmstartError } from '@warmstart/core'
import { MalformedResponseError } from './errors.js'
import { type SdkPath, SECRETS_PATH, SSM_PATH } from './sdk-path.js'
import type {
  CallOptions,
  SecretsBackend,
  SecretsManagerSdkClient,
  SsmBackend,
  SsmSdkClient,
} from './types.js'

/** An AWS SDK v3 client, by the shape this adapter uses (the SDK entries pass the real one). */
interface SdkClient {
  send(command: unknown, options: { abortSignal: AbortSignal }): Promise<unknown>
  readonly config?: { readonly serviceId?: unknown }
}

/** An SDK command class, such as `GetParameterCommand`. */
type SdkCommand = new (input: never) => unknown

/**
 * Checks what an SDK entry was given: an SDK v3 client, and not one that says it is for another
 * service (its `config.serviceId`), so that the mistake is reported where it was made.
 */
function checkClient(path: SdkPath, value: unknown): SdkClient {
  const client = value as Partial<SdkClient> | null
  const serviceId = client?.config?.serviceId
  if (typeof client?.send !== 'function' || (typeof serviceId === 'string' && serviceId !== path.service)) {
    const got = typeof serviceId === 'string' ? `a client of "${serviceId}"` : 'no SDK v3 client'
    throw new WarmstartError(
      'ERR_INVALID_ARGUMENT',
      `${path.maker}: expected ${path.clientName} (got ${got})`,
    )
  }
  return client as SdkClient
}

/**
 * Sends one command through a caller's client so that it fails as the HTTP path does:
 * `signal.reason` once the signal has aborted (the SDK's own is a generic AbortError), and a
 * MalformedResponseError for a body the SDK could not parse (a SyntaxError carrying `$metadata`).
 * Service errors are the SDK's own exceptions, which the HTTP path's AwsServiceError is shaped like.
 */
async function send<T>(
  client: SdkClient,
  operation: string,
  Command: SdkCommand,
  input: object,
  { signal }: CallOptions,
): Promise<T> {
  signal.throwIfAborted()
  try {
    return (await client.send(new Command(input as never), { abortSignal: signal })) as T
  } catch (error) {
    if (signal.aborted) throw signal.reason
    if (error instanceof SyntaxError && '$metadata' in error) {
      throw new MalformedResponseError(operation, 'the body is not JSON')
    }
    throw error
  }
}

/** The SDK path of ssmParameters: a caller's SSMClient with the commands of its SDK entry. */
export function sdkSsmBackend(
  value: unknown,
  commands: { getParameter: SdkCommand; getParameters: SdkCommand; getParametersByPath: SdkCommand },
): SsmSdkClient & SsmBackend {
  const client = checkClient(SSM_PATH, value)
  return {
    kind: 'sdk',
    service: 'SSM',
    getParameter: (input, options) => send(client, 'GetParameter', commands.getParameter, input, options),
    getParameters: (input, options) =>
      send(client, 'GetParameters', commands.getParameters, { ...input, Names: [...input.Names] }, options),
    getParametersByPath: (input, options) =>
      send(client, 'GetParametersByPath', commands.getParametersByPath, input, options),
  }
}

/** The SDK path of secretsManager: a caller's SecretsManagerClient with the commands of its SDK entry. */
export function sdkSecretsBackend(
  value: unknown,
  commands: { getSecretValue: SdkCommand; batchGetSecretValue: SdkCommand },
): SecretsManagerSdkClient & SecretsBackend {
  const client = checkClient(SECRETS_PATH, value)
  return {
    kind: 'sdk',
    service: 'Secrets Manager',
    getSecretValue: (input, options) =>
      send(client, 'GetSecretValue', commands.getSecretValue, input, options),
    batchGetSecretValue: (input, options) =>
      send(
        client,
        'BatchGetSecretValue',
        commands.batchGetSecretValue,
        { SecretIdList: [...input.SecretIdList] },
        options,
      ),
  }
}
