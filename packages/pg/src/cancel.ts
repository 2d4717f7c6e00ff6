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
 * session's own socket is busy, or dead). The server answers nothing: it signals the session, then
 * closes that connection. Resolves true once it has closed it, false when that did not happen
 * within `timeoutMs` (the server is unreachable too, or the session has no key). Never rejects.
 *
 * Waiting for the close, as libpq's PQcancel does, is what makes the cancel safe to race with the
 * statement's own end: until the server has acted on the request it can still land later, on the
 * next statement sent on the session (another invocation's), and fail it with 57014.
 */
export function sendCancelRequest(target: CancelTarget, timeoutMs: number): Promise<boolean> {
  const { processID, secretKey } = target
  if (processID === null || secretKey === null) return Promise.resolve(false)
  return new Promise((resolve) => {
    // A host starting with '/' is a Unix socket directory, as pg reads it.
    const socket = target.host.startsWith('/')
      ? net.connect({ path: `${target.host}/.s.PGSQL.${target.port}` })
      : net.connect({ host: target.host, port: target.port })
    let settled = false
    const done = (confirmed: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(confirmed)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    // Listeners stay on until the end: a second 'error' after the first must not go unheard.
    socket.on('error', () => done(false))
    socket.on('close', () => done(false))
    let written = false
    // The server's close of the connection, after the request was written, is its confirmation.
    socket.on('end', () => done(written))
    socket.once('connect', () => {
      const message = Buffer.alloc(16)
      message.writeInt32BE(16, 0)
      message.writeInt32BE(CANCEL_REQUEST_CODE, 4)
      message.writeInt32BE(processID, 8)
      message.writeInt32BE(secretKey, 12)
      socket.write(message, (error) => {
        written = error === undefined || error === null
      })
    })
    // Nothing is expected but the close; reading is what lets 'end' be seen.
    socket.resume()
  })
}
