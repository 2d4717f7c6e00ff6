import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** Waits `ms` before going on; a wait still pending when the endpoint stops never ends. */
export type Delay = (ms: number) => Promise<void>

export type RequestHandler = (request: IncomingMessage, response: ServerResponse, delay: Delay) => void

/**
 * A node:http server on 127.0.0.1 and a free port that can always be stopped: `stop()` destroys
 * every socket it has open (keep-alive connections, requests left hanging on purpose) and cancels
 * pending delays, so no test waits on it.
 */
export class HttpEndpoint {
  readonly url: string
  readonly #server: ReturnType<typeof createServer>
  readonly #sockets: Set<Socket>
  readonly #timers = new Set<NodeJS.Timeout>()
  #stopped: Promise<void> | undefined

  private constructor(server: ReturnType<typeof createServer>, sockets: Set<Socket>) {
    this.#server = server
    this.#sockets = sockets
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  static async start(handler: RequestHandler): Promise<HttpEndpoint> {
    const sockets = new Set<Socket>()
    let endpoint: HttpEndpoint | undefined
    const server = createServer((request, response) =>
      handler(request, response, (ms) => endpoint!.#delay(ms)),
    )
    server.on('connection', (socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    endpoint = new HttpEndpoint(server, sockets)
    return endpoint
  }

  stop(): Promise<void> {
    this.#stopped ??= new Promise<void>((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer)
      this.#timers.clear()
      this.#server.close(() => resolve())
      for (const socket of this.#sockets) socket.destroy()
    })
    return this.#stopped
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer)
        resolve()
      }, ms)
      this.#timers.add(timer)
    })
  }
}
