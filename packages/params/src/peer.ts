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

// Loaded on first use: a function that never reads this service never loads its SDK, and the
// default (HTTP) path loads it only for the SDK's credential chain, when the environment has no
// credentials. The import sits in try/catch so that a bundle made without this optional peer still
// builds (esbuild leaves it for run time), and a missing peer is a typed error.
export const loadSsmSdk: () => Promise<typeof SsmSdk> = peerLoader(async () => {
  try {
    return await import('@aws-sdk/client-ssm')
  } catch (error) {
    /* v8 ignore next -- runs only where the peer is not installed (checked by hand: see the README) */
    throw missingPeer('@aws-sdk/client-ssm', 'ssmParameters', error)
  }
})

export const loadSecretsSdk: () => Promise<typeof SecretsSdk> = peerLoader(async () => {
  try {
    return await import('@aws-sdk/client-secrets-manager')
  } catch (error) {
    /* v8 ignore next -- runs only where the peer is not installed (checked by hand: see the README) */
    throw missingPeer('@aws-sdk/client-secrets-manager', 'secretsManager', error)
  }
})
