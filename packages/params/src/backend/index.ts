import { invalidOption } from '@warmstart/core/internal'
import { loadSecretsSdk, loadSsmSdk } from '../peer.js'
import { checkEndpoint, checkRegion, type SdkChains } from './config.js'
import { httpSecretsBackend, httpSsmBackend } from './http-backend.js'
import { type SdkPath, SECRETS_PATH, SSM_PATH } from './sdk-path.js'
import type { SecretsBackend, SecretsManagerSdkClient, SsmBackend, SsmSdkClient } from './types.js'

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

/** Checks the transport options; the `client` one must be what its SDK entry made. */
function checkTransport(component: string, options: TransportOptions<unknown>, path: SdkPath) {
  const { client } = options
  if (client !== undefined) checkSdkClient(component, client, path)
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

/**
 * The SDK entry's adapter checked the client it was given; this checks that `client` is such an
 * adapter, for this service. The adapter is not imported here: a bundle of the default path has none.
 */
function checkSdkClient(component: string, value: unknown, path: SdkPath): void {
  const made = value as Record<string, unknown> | null
  const maker = `${path.maker}() of '${path.entry}'`
  if (typeof made?.send === 'function') {
    // A bare SDK client: the commands it needs come from the SDK entry, which this one never imports.
    throw invalidOption(component, 'client', `must be ${path.clientName} passed through ${maker}`)
  }
  if (
    typeof made !== 'object' ||
    made === null ||
    made.kind !== 'sdk' ||
    made.service !== path.service ||
    path.operations.some((name) => typeof made[name] !== 'function')
  ) {
    throw invalidOption(component, 'client', `must be what ${maker} returns for ${path.clientName}`)
  }
}

/** A caller's SSMClient → the SDK path; none → the default HTTP path. Options are checked here. */
export function ssmBackend(component: string, options: TransportOptions<SsmSdkClient>): SsmBackend {
  const { endpoint, region } = checkTransport(component, options, SSM_PATH)
  // checkTransport made sure it is the adapter of the SDK entry, for this service.
  if (options.client !== undefined) return options.client as SsmSdkClient & SsmBackend
  return httpSsmBackend({
    endpoint,
    region,
    chains: sdkChains(async () => new (await loadSsmSdk()).SSMClient({}) as unknown as ConfiguredClient),
  })
}

export function secretsBackend(
  component: string,
  options: TransportOptions<SecretsManagerSdkClient>,
): SecretsBackend {
  const { endpoint, region } = checkTransport(component, options, SECRETS_PATH)
  if (options.client !== undefined) return options.client as SecretsManagerSdkClient & SecretsBackend
  return httpSecretsBackend({
    endpoint,
    region,
    chains: sdkChains(
      async () => new (await loadSecretsSdk()).SecretsManagerClient({}) as unknown as ConfiguredClient,
    ),
  })
}
