import type * as SecretsSdk from '@aws-sdk/client-secrets-manager'
import type * as SsmSdk from '@aws-sdk/client-ssm'
import { WarmstartError } from '@warmstart/core'

/** Loads an optional peer (an AWS SDK client package) once, on first use; a failed load is not kept. */
export function peerLoader<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined
      throw error
    })
    return loading
  }
}

/** The error for a failed load of a peer: ERR_PEER_MISSING, saying what to install, when it is not installed. */
export function missingPeer(peer: string, user: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return error
  return new WarmstartError('ERR_PEER_MISSING', `${user} needs ${peer}: install it (npm install ${peer})`, {
    cause: error,
  })
}

/**
 * Loads an SDK package by a name no bundler follows: its only use here is the SDK's credential and
 * region chains, for a default-path provider in an environment with no credentials (never in
 * Lambda, whose runtime sets them). A literal `import()` would put the whole SDK in every bundle of
 * the default path, 640 kB it never runs. Where it does run (a laptop, a CI job), the SDK is loaded
 * from node_modules; a caller who bundles the SDK and runs where the environment has no credentials
 * passes an SDK client instead (fromSsmClient, fromSecretsManagerClient).
 */
function runtimePeer<T>(name: string, user: string): () => Promise<T> {
  return peerLoader(async () => {
    try {
      return (await import(name)) as T
    } catch (error) {
      /* v8 ignore next -- runs only where the peer is not installed (checked by hand: see the README) */
      throw missingPeer(name, user, error)
    }
  })
}

export const loadSsmSdk: () => Promise<typeof SsmSdk> = runtimePeer('@aws-sdk/client-ssm', 'ssmParameters')

export const loadSecretsSdk: () => Promise<typeof SecretsSdk> = runtimePeer(
  '@aws-sdk/client-secrets-manager',
  'secretsManager',
)
