import { WarmstartError } from '@warmstart/core'

/**
 * Loads an optional peer (an AWS SDK client package) once, on first use. A failed load is not
 * kept, and a peer that is not installed is a typed error that says what to install.
 */
export function peerLoader<T>(peer: string, user: string, load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined
      const code = (error as { code?: unknown } | null)?.code
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new WarmstartError(
          'ERR_PEER_MISSING',
          `${user} needs ${peer}: install it (npm install ${peer})`,
          {
            cause: error,
          },
        )
      }
      throw error
    })
    return loading
  }
}
