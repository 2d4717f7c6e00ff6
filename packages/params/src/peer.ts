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
