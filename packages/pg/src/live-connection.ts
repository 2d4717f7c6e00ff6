import type { Clock, Logger } from '@warmstart/core'
import type { Client } from 'pg'
import { sendCancelRequest } from './cancel.js'
import { describeError, isConnectionLost } from './classify.js'
import { QueryTimeoutError, type QueryTimeoutOutcome } from './errors.js'
import { report } from './events.js'

/** The transaction status byte of the protocol's ReadyForQuery message: idle, in a transaction, failed transaction. */
export type TransactionStatus = 'I' | 'T' | 'E'

interface ReadyForQueryMessage {
  status?: string
}

/** What pg keeps on a client and its connection that the types do not declare (public protocol state, pg 8). */
interface ClientInternals {
  host: string
  port: number
  processID: number | null
  secretKey: number | null
  connection: { query(text: string): void; sync(): void }
}

type QueryFunction = (...args: unknown[]) => unknown

/** True for the call forms of client.query that pg answers with a promise (no callback, no Submittable). */
function promiseForm(args: unknown[]): boolean {
  const [config, values, callback] = args
  if (typeof values === 'function' || typeof callback === 'function') return false
  return !(
    typeof config === 'object' &&
    config !== null &&
    typeof (config as { submit?: unknown }).submit === 'function'
  )
}

/**
 * One open pg.Client and what is known about it without asking the server: whether it is still
 * alive (from its 'error' and 'end' events and its socket's 'close'), when it last finished a
 * round trip, the transaction status the server reported in its last ReadyForQuery, and how many
 * round trips (a simple Query, or a Sync closing an extended-protocol exchange) are still waiting
 * for their ReadyForQuery: while one is, a statement is in flight and nobody else may use it.
 */
export class LiveConnection {
  readonly createdAt: number
  lastUsedAt: number
  status: TransactionStatus = 'I'
  /** Why it is dead, once it is. */
  deadReason: string | undefined
  /** A query ran since the last DISCARD ALL (resetSession). */
  sessionUsed = false
  /**
   * `performance.now()` by which a statement must be done: set by the pool for the invocation that
   * holds the connection, undefined outside an invocation (no deadline but the server's own).
   */
  deadline: number | undefined
  /** Round trips sent whose ReadyForQuery has not arrived yet. */
  #pending = 0
  /** The server answered the statement in flight with an error: only its ReadyForQuery is still due. */
  #answered = false
  readonly #readyWaiters: (() => void)[] = []
  /** The end under way, once `end` was called. */
  #ending: Promise<void> | undefined
  readonly #name: string
  readonly #clock: Clock
  readonly #logger: Logger | undefined
  readonly #cancelWait: number
  /** pg's own client.query, before the instance's is bounded by the deadline. */
  readonly #send: QueryFunction

  constructor(
    readonly client: Client,
    context: { name: string; clock: Clock; logger: Logger | undefined; cancelWait: number },
  ) {
    this.#name = context.name
    this.#clock = context.clock
    this.#logger = context.logger
    this.#cancelWait = context.cancelWait
    this.createdAt = context.clock.now()
    this.lastUsedAt = this.createdAt
    // A server that closed the connection while the process was frozen is heard from here as soon
    // as the process thaws, before the next invocation runs: no round trip needed to know it.
    client.on('error', (error) => this.markDead(describeError(error)))
    client.on('end', () => this.markDead('connection ended'))
    // The socket's own 'end', not only the client's: pg re-emits it on a later tick, and under the
    // real runtime client the invocation a thaw starts can run in between (seen: a proxy's close
    // during the freeze read at the thaw, the client still "alive" when the handler got it).
    client.connection.stream.once('end', () => this.markDead('connection ended'))
    client.connection.stream.once('close', () => this.markDead('socket closed'))
    const internals = client as unknown as ClientInternals
    const protocol = internals.connection
    // Every Query and every Sync is answered by exactly one ReadyForQuery: counting them is how we
    // know, whatever API the caller used (promise, callback, cursor), that a statement is in flight.
    const sendQuery = protocol.query.bind(protocol)
    const sendSync = protocol.sync.bind(protocol)
    protocol.query = (text: string) => {
      this.#pending += 1
      sendQuery(text)
    }
    protocol.sync = () => {
      this.#pending += 1
      sendSync()
    }
    client.connection.on('errorMessage', () => {
      this.#answered = true
    })
    client.connection.on('readyForQuery', (message: ReadyForQueryMessage) => {
      this.lastUsedAt = this.#clock.now()
      if (message.status === 'I' || message.status === 'T' || message.status === 'E')
        this.status = message.status
      this.#pending = Math.max(0, this.#pending - 1)
      this.#answered = false
      if (this.#pending === 0) for (const wake of this.#readyWaiters.splice(0)) wake()
    })
    // The client handed to the handler (pgMiddleware's context.pg, db.client()) runs its statements
    // under the holder's deadline too: its promise-returning query is bounded on the instance.
    this.#send = (client.query as QueryFunction).bind(client)
    ;(client as unknown as { query: QueryFunction }).query = (...args: unknown[]) => {
      const result = this.#send(...args)
      if (this.deadline === undefined || !promiseForm(args)) return result
      return this.#bounded(result as Promise<unknown>, this.deadline)
    }
  }

  get alive(): boolean {
    return this.deadReason === undefined
  }

  /** A statement sent on it has not finished (its ReadyForQuery is still due). */
  get busy(): boolean {
    return this.alive && this.#pending > 0
  }

  /** What is in flight has already been answered with an error; only the ReadyForQuery that follows is due (pg rejects the query before it arrives). */
  get answeredWithError(): boolean {
    return this.#pending === 1 && this.#answered
  }

  idleMs(): number {
    return Math.max(0, this.#clock.now() - this.lastUsedAt)
  }

  ageMs(): number {
    return Math.max(0, this.#clock.now() - this.createdAt)
  }

  /**
   * Whether the last holder left something to clean before anyone else uses the connection: a
   * statement in flight (or the ReadyForQuery after an error still due), a transaction, or (with
   * resetSession) a used session. Known without a round trip; a dead connection has nothing to clean.
   */
  needsCleanUp(resetSession: boolean): boolean {
    return this.alive && (this.#pending > 0 || this.status !== 'I' || (resetSession && this.sessionUsed))
  }

  /** Notes the connection as unusable and closes its socket, so nothing waits on it. */
  markDead(reason: string): void {
    if (this.deadReason !== undefined) return
    this.deadReason = reason
    for (const wake of this.#readyWaiters.splice(0)) wake()
    report(this.#logger, 'pg.dead', { name: this.#name, reason })
    this.client.connection.stream.destroy()
  }

  /**
   * Resolves once nothing is in flight: every ReadyForQuery due has arrived (or the connection
   * died). One that is still busy after `timeoutMs` is marked dead (its socket closed).
   */
  async quiet(timeoutMs: number): Promise<void> {
    if (!this.busy) return
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      this.#readyWaiters.push(resolve)
      timer = setTimeout(() => {
        this.markDead(`no ReadyForQuery within ${timeoutMs} ms`)
      }, timeoutMs)
    })
    clearTimeout(timer)
  }

  /**
   * Stops what is in flight: a CancelRequest to the server on a separate connection, then a wait
   * of up to cancelWait for the ReadyForQuery that proves the session idle. Without it the
   * connection is closed (the server ends the session once it finds the socket closed: at once
   * when the cancel reached it, else when the statement ends).
   */
  async interrupt(): Promise<QueryTimeoutOutcome> {
    if (!this.busy) return this.alive ? 'cancelled' : 'discarded'
    const started = performance.now()
    const internals = this.client as unknown as ClientInternals
    const sent = await sendCancelRequest(internals, this.#cancelWait)
    const left = Math.max(1, this.#cancelWait - (performance.now() - started))
    if (sent) await this.quiet(left)
    else this.markDead('statement still running and the cancel could not be sent')
    const outcome = this.alive ? 'cancelled' : 'discarded'
    report(this.#logger, 'pg.cancel', { name: this.#name, outcome })
    return outcome
  }

  /**
   * The statement's outcome, or a QueryTimeoutError once the deadline passes (after the statement
   * was stopped). A statement that completed while it was being stopped (its result arrived before
   * the cancel took effect) gives its result: it did run, and a write reported as cancelled would
   * be a lie the caller might act on by writing again.
   */
  #bounded<T>(statement: Promise<T>, deadline: number): Promise<T> {
    const allowed = Math.max(0, Math.round(deadline - performance.now()))
    return new Promise<T>((resolve, reject) => {
      let expired = false
      let completed: { value: T } | undefined
      const timer = setTimeout(() => {
        // From here a failure of the statement (57014 after the cancel, or a lost connection) is not the caller's.
        expired = true
        void this.interrupt().then((outcome) => {
          if (completed !== undefined) resolve(completed.value)
          else reject(new QueryTimeoutError({ connection: this.#name, timeoutMs: allowed, outcome }))
        })
      }, allowed)
      statement.then(
        (value) => {
          if (expired) {
            completed = { value }
            return
          }
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          if (expired) return
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }

  /**
   * Runs one simple-protocol statement under a deadline. On timeout the socket is destroyed (a NAT
   * that dropped the flow answers nothing, and a write would wait until TCP gives up) and the
   * connection is dead. Resolves true when the server answered, even with an error.
   */
  async roundTrip(sql: string, timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    // Our own statements are bounded by timeoutMs, not by the holder's deadline.
    const answered = (this.#send(sql) as Promise<unknown>).then(
      () => 'ok' as const,
      (error: unknown) => error,
    )
    try {
      const outcome = await Promise.race([answered, expired])
      if (outcome === 'ok') return true
      if (outcome === 'timeout') this.markDead(`no answer within ${timeoutMs} ms`)
      else if (isConnectionLost(outcome)) this.markDead(describeError(outcome))
      // An error the server sent is an answer: the connection works.
      else return true
      return false
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Ends the session politely; one that is dead, or does not answer within `timeoutMs`, is simply
   * closed. A second call gets the first one's promise: db.end() waits for an end already under
   * way (the sweep's, a maxLifetime replacement's) to close the socket.
   */
  end(timeoutMs: number): Promise<void> {
    this.#ending ??= this.#end(timeoutMs)
    return this.#ending
  }

  async #end(timeoutMs: number): Promise<void> {
    const wasAlive = this.alive
    this.deadReason ??= 'ended'
    if (!wasAlive) return
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    })
    await Promise.race([this.client.end().catch(() => undefined), expired])
    clearTimeout(timer)
    this.client.connection.stream.destroy()
  }
}
