import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import type { SSMClient } from '@aws-sdk/client-ssm'
import { invalidOption } from '@warmstart/core/internal'
import { loadSecretsSdk, loadSsmSdk } from '../peer.js'
import { checkEndpoint, checkRegion, type SdkChains } from './config.js'
import { httpSecretsBackend, httpSsmBackend } from './http-backend.js'
import { sdkSecretsBackend, sdkSsmBackend } from './sdk-backend.js'
import type { SdkClient, SecretsBackend, SsmBackend } from './types.js'

export { AwsServiceError, MalformedResponseError } from './errors.js'
export type * from './types.js'

/** The transport options of a provider. */
export interface TransportOptions<Client> {
  client?: Client | undefined
  endpoint?: string | undefined
  region?: string | undefined
}

interface ConfiguredClient {
  readonly config: {
    credentials(): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>
    region(): Promise<string>
  }
}

// The SDK's chains, from one client of that service made for them alone (never sent a request): its
// credential provider caches and renews what it found. Made once, at the first call that needs it.
function sdkChains(make: () => Promise<ConfiguredClient>): () => Promise<SdkChains> {
  let chains: Promise<SdkChains> | undefined
  return () => {
    chains ??= make().then(
      (client) => ({ credentials: () => client.config.credentials(), region: () => client.config.region() }),
      /* v8 ignore next 4 -- a peer that is not installed (loadSsmSdk's typed error): not kept, tried again */
      (error: unknown) => {
        chains = undefined
        throw error
      },
    )
    return chains
  }
}

function checkTransport(
  component: string,
  options: TransportOptions<SdkClient>,
  service: string,
  what: string,
) {
  const { client } = options
  if (
    client !== undefined &&
    (typeof (client as { send?: unknown }).send !== 'function' || !isFor(client, service))
  ) {
    throw invalidOption(component, 'client', `must be ${what}`)
  }
  const endpoint = checkEndpoint(component, options.endpoint)
  const region = checkRegion(component, options.region)
  if (client !== undefined && (endpoint !== undefined || region !== undefined)) {
    throw invalidOption(
      component,
      endpoint === undefined ? 'region' : 'endpoint',
      'applies to the default transport only: set it on the client you pass',
    )
  }
  return { endpoint, region }
}

/** False only for a client that says it is for another service (an SDK v3 client's `config.serviceId`). */
function isFor(client: SdkClient, service: string): boolean {
  const serviceId = (client.config as { serviceId?: unknown } | undefined)?.serviceId
  return typeof serviceId !== 'string' || serviceId === service
}

/** A caller's SSMClient → the SDK path; none → the default HTTP path. Options are checked here. */
export function ssmBackend(component: string, options: TransportOptions<SdkClient>): SsmBackend {
  const { endpoint, region } = checkTransport(
    component,
    options,
    'SSM',
    'an SSMClient from @aws-sdk/client-ssm',
  )
  if (options.client !== undefined) return sdkSsmBackend(options.client as unknown as SSMClient, loadSsmSdk)
  return httpSsmBackend({
    endpoint,
    region,
    chains: sdkChains(async () => new (await loadSsmSdk()).SSMClient({}) as unknown as ConfiguredClient),
  })
}

export function secretsBackend(component: string, options: TransportOptions<SdkClient>): SecretsBackend {
  const { endpoint, region } = checkTransport(
    component,
    options,
    'Secrets Manager',
    'a SecretsManagerClient from @aws-sdk/client-secrets-manager',
  )
  if (options.client !== undefined)
    return sdkSecretsBackend(options.client as unknown as SecretsManagerClient, loadSecretsSdk)
  return httpSecretsBackend({
    endpoint,
    region,
    chains: sdkChains(
      async () => new (await loadSecretsSdk()).SecretsManagerClient({}) as unknown as ConfiguredClient,
    ),
  })
}

/** For a call made with no deadline (outside an invocation): a signal that never aborts. */
export const NO_DEADLINE: { readonly signal: AbortSignal } = { signal: new AbortController().signal }
