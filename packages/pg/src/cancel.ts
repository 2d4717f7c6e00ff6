import net from 'node:net'

/** What a CancelRequest needs: where the server is and the key it gave this session at login. */
export interface CancelTarget {
  host: string
  port: number
  processID: number | null
  secretKey: number | null
}

// The protocol's CancelRequest code: 1234 in the high 16 bits, 5678 in the low.
const CANCEL_REQUEST_CODE = 80877102

/**
 * Asks the server to cancel whatever the session is running, on a connection of its own (the
 * session's own socket is busy, or dead). The server answers nothing and closes that connection;
 * resolves true once the request was written, false when it could not be within `timeoutMs` (the
 * server is unreachable too, or the session has no key). Never rejects.
 */
export function sendCancelRequest(target: CancelTarget, timeoutMs: number): Promise<boolean> {
  const { processID, secretKey } = target
  if (processID === null || secretKey === null) return Promise.resolve(false)
  return new Promise((resolve) => {
    // A host starting with '/' is a Unix socket directory, as pg reads it.
    const socket = target.host.startsWith('/')
      ? net.connect({ path: `${target.host}/.s.PGSQL.${target.port}` })
      : net.connect({ host: target.host, port: target.port })
    const done = (sent: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(sent)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once('error', () => done(false))
    socket.once('connect', () => {
      const message = Buffer.alloc(16)
      message.writeInt32BE(16, 0)
      message.writeInt32BE(CANCEL_REQUEST_CODE, 4)
      message.writeInt32BE(processID, 8)
      message.writeInt32BE(secretKey, 12)
      socket.end(message, () => done(true))
    })
  })
}
