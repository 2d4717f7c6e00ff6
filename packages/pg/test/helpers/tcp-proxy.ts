import net from 'node:net'

/**
 * A TCP proxy between pg and PostgreSQL that reads the protocol going to the server: it counts
 * round trips (a simple Query, or a Sync closing an extended-protocol exchange) and plays the
 * network's tricks: flows forgotten silently (a NAT after a freeze), a black hole, refused connects.
 */
export interface TcpProxy {
  readonly port: number
  /** Round trips sent through the proxy since the last reset. */
  roundTrips(): number
  resetCount(): void
  /** Terminate messages seen: sessions the client ended politely (not by dying). */
  terminations(): number
  /** Holds the server's ReadyForQuery after an ErrorResponse for `ms` (pg rejects the query before it arrives). */
  delayReadyAfterError(ms: number): void
  /** Every open flow stops forwarding, silently, both ways; new connections still work. */
  dropExistingFlows(): void
  /** New connections are accepted and never answered. */
  blackholeNewFlows(on: boolean): void
  /** Closes every open flow at once, both ways (a PgBouncer or proxy that restarts); new connections still work. */
  resetFlows(): void
  /**
   * New connections are accepted and what the client sends is held, not forwarded, until
   * `releaseNewFlows()`: a connect (a login) that is slow for as long as the test wants. Resolves
   * when the first one is held.
   */
  holdNewFlows(): Promise<void>
  /** Forwards what the held flows' clients sent (to those still open), and stops holding new ones. */
  releaseNewFlows(): void
  /**
   * CancelRequests (a connection whose first message is one) are held, not forwarded, until
   * `releaseCancels()`: a cancel that reaches the server late. Resolves when the first one is held.
   */
  holdCancels(): Promise<void>
  /** Forwards the held CancelRequests; resolves once the server has closed each (it has acted on it). */
  releaseCancels(): Promise<void>
  /** Closes the listening socket: connects are refused until `listen()`. */
  refuse(): Promise<void>
  listen(): Promise<void>
  close(): Promise<void>
}

const SSL_REQUEST = 80877103
const CANCEL_REQUEST = 80877102
const QUERY = 'Q'.charCodeAt(0)
const SYNC = 'S'.charCodeAt(0)
const TERMINATE = 'X'.charCodeAt(0)
const READY = 'Z'.charCodeAt(0)
const ERROR = 'E'.charCodeAt(0)

class ClientMessages {
  private buffer = Buffer.alloc(0)
  private startupDone = false

  constructor(
    private readonly onRoundTrip: () => void,
    private readonly onTerminate: () => void,
  ) {}

  push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk])
    for (;;) {
      if (!this.startupDone) {
        if (this.buffer.length < 8) return
        const length = this.buffer.readInt32BE(0)
        if (this.buffer.length < length) return
        if (this.buffer.readInt32BE(4) !== SSL_REQUEST) this.startupDone = true
        this.buffer = this.buffer.subarray(length)
        continue
      }
      if (this.buffer.length < 5) return
      const length = this.buffer.readInt32BE(1)
      if (this.buffer.length < 1 + length) return
      const type = this.buffer[0]
      if (type === QUERY || type === SYNC) this.onRoundTrip()
      if (type === TERMINATE) this.onTerminate()
      this.buffer = this.buffer.subarray(1 + length)
    }
  }
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let count = 0
  let terminations = 0
  let readyDelay = 0
  let blackhole = false
  let holdingCancels: (() => void) | undefined
  let holdingFlows: (() => void) | undefined
  const heldFlows: (() => void)[] = []
  const heldCancels: { upstream: net.Socket; chunk: Buffer }[] = []
  const flows = new Set<{
    client: net.Socket
    server: net.Socket | undefined
    dropped: boolean
    held: boolean
  }>()

  const onConnection = (client: net.Socket): void => {
    const flow = { client, server: undefined as net.Socket | undefined, dropped: false, held: false }
    flows.add(flow)
    client.on('error', () => undefined)
    client.on('close', () => {
      flows.delete(flow)
      // A held cancel still reaches the server, late, after its sender gave up (packets in flight).
      if (!flow.held) flow.server?.destroy()
    })
    if (blackhole) return
    const upstream = net.connect(target.port, target.host)
    flow.server = upstream
    const messages = new ClientMessages(
      () => {
        count += 1
      },
      () => {
        terminations += 1
      },
    )
    upstream.on('error', () => client.destroy())
    upstream.on('close', () => {
      if (!flow.dropped) client.destroy()
    })
    let first = true
    const onData = (chunk: Buffer): void => {
      if (flow.dropped) return
      const cancel = first && chunk.length >= 8 && chunk.readInt32BE(4) === CANCEL_REQUEST
      first = false
      if (cancel && holdingCancels !== undefined) {
        flow.held = true
        heldCancels.push({ upstream, chunk })
        holdingCancels()
        return
      }
      messages.push(chunk)
      upstream.write(chunk)
    }
    if (holdingFlows === undefined) client.on('data', onData)
    else {
      const held: Buffer[] = []
      const hold = (chunk: Buffer): void => {
        held.push(chunk)
      }
      client.on('data', hold)
      heldFlows.push(() => {
        client.off('data', hold)
        if (client.destroyed) return
        for (const chunk of held.splice(0)) onData(chunk)
        client.on('data', onData)
      })
      holdingFlows()
    }
    let pending = Buffer.alloc(0)
    let lastType = 0
    let sending: Promise<void> = Promise.resolve()
    upstream.on('data', (chunk: Buffer) => {
      if (flow.dropped) return
      if (readyDelay === 0) {
        client.write(chunk)
        return
      }
      // Forward message by message, in order, holding a ReadyForQuery that follows an error.
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
        const size = 1 + pending.readInt32BE(1)
        const message = pending.subarray(0, size)
        pending = pending.subarray(size)
        const hold = message[0] === READY && lastType === ERROR ? readyDelay : 0
        lastType = message[0] as number
        sending = sending.then(async () => {
          if (hold > 0) await new Promise((resolve) => setTimeout(resolve, hold))
          client.write(message)
        })
      }
    })
  }

  const listenOn = (port: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const listening = net.createServer(onConnection)
      listening.once('error', reject)
      listening.listen(port, '127.0.0.1', () => {
        listening.off('error', reject)
        resolve(listening)
      })
    })
  let server = await listenOn(0)
  const port = (server.address() as net.AddressInfo).port

  return {
    port,
    roundTrips: () => count,
    terminations: () => terminations,
    resetCount() {
      count = 0
    },
    dropExistingFlows() {
      for (const flow of flows) flow.dropped = true
    },
    resetFlows() {
      for (const flow of flows) {
        flow.client.destroy()
        flow.server?.destroy()
      }
    },
    holdNewFlows() {
      return new Promise<void>((resolve) => {
        holdingFlows = resolve
      })
    },
    releaseNewFlows() {
      holdingFlows = undefined
      for (const release of heldFlows.splice(0)) release()
    },
    holdCancels() {
      return new Promise<void>((resolve) => {
        holdingCancels = resolve
      })
    },
    async releaseCancels() {
      holdingCancels = undefined
      await Promise.all(
        heldCancels.splice(0).map(
          ({ upstream, chunk }) =>
            new Promise<void>((resolve) => {
              upstream.once('close', () => resolve())
              upstream.end(chunk)
            }),
        ),
      )
    },
    delayReadyAfterError(ms) {
      readyDelay = ms
    },
    blackholeNewFlows(on) {
      blackhole = on
    },
    async refuse() {
      // close() stops accepting at once; its callback would wait for the open flows to end.
      server.close()
    },
    async listen() {
      server = await listenOn(port)
    },
    async close() {
      for (const { upstream } of heldCancels.splice(0)) upstream.destroy()
      for (const flow of flows) {
        flow.client.destroy()
        flow.server?.destroy()
      }
      server.close()
    },
  }
}
