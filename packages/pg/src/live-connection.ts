import type { Clock, Logger } from '@warmstart/core'
import type { Client } from 'pg'
import { describeError, isConnectionLost } from './classify.js'
import { report } from './events.js'

/** The transaction status byte of the protocol's ReadyForQuery message: idle, in a transaction, failed transaction. */
export type TransactionStatus = 'I' | 'T' | 'E'

interface ReadyForQueryMessage {
  status?: string
}

/**
 * One open pg.Client and what is known about it without asking the server: whether it is still
 * alive (from its 'error' and 'end' events and its socket's 'close'), when it last finished a
 * round trip, and the transaction status the server reported in its last ReadyForQuery.
 */
export class LiveConnection {
  readonly createdAt: number
  lastUsedAt: number
  status: TransactionStatus = 'I'
  /** Why it is dead, once it is. */
  deadReason: string | undefined
  /** A query ran since the last DISCARD ALL (resetSession). */
  sessionUsed = false
  /** pg hands a query's error to the caller before the server's ReadyForQuery; until it arrives, `status` is stale. */
  private awaitingReady = false
  private readonly readyWaiters: (() => void)[] = []
  private readonly name: string
  private readonly clock: Clock
  private readonly logger: Logger | undefined

  constructor(
    readonly client: Client,
    context: { name: string; clock: Clock; logger: Logger | undefined },
  ) {
    this.name = context.name
    this.clock = context.clock
    this.logger = context.logger
    this.createdAt = context.clock.now()
    this.lastUsedAt = this.createdAt
    // A server that closed the connection while the process was frozen is heard from here as soon
    // as the process thaws, before the next invocation runs: no round trip needed to know it.
    client.on('error', (error) => this.markDead(describeError(error)))
    client.on('end', () => this.markDead('connection ended'))
    client.connection.stream.once('close', () => this.markDead('socket closed'))
    // pg keeps the status byte in a private field; the message itself is public protocol.
    client.connection.on('errorMessage', () => {
      this.awaitingReady = true
    })
    client.connection.on('readyForQuery', (message: ReadyForQueryMessage) => {
      this.lastUsedAt = this.clock.now()
      if (message.status === 'I' || message.status === 'T' || message.status === 'E')
        this.status = message.status
      this.awaitingReady = false
      for (const wake of this.readyWaiters.splice(0)) wake()
    })
  }

  get alive(): boolean {
    return this.deadReason === undefined
  }

  idleMs(): number {
    return Math.max(0, this.clock.now() - this.lastUsedAt)
  }

  ageMs(): number {
    return Math.max(0, this.clock.now() - this.createdAt)
  }

  /**
   * Whether the last holder left something to clean before anyone else uses the connection: a
   * ReadyForQuery still due after an error, a transaction, or (with resetSession) a used session.
   * Known without a round trip; a dead connection has nothing to clean.
   */
  needsCleanUp(resetSession: boolean): boolean {
    return this.alive && (this.awaitingReady || this.status !== 'I' || (resetSession && this.sessionUsed))
  }

  /** Notes the connection as unusable and closes its socket, so nothing waits on it. */
  markDead(reason: string): void {
    if (this.deadReason !== undefined) return
    this.deadReason = reason
    for (const wake of this.readyWaiters.splice(0)) wake()
    report(this.logger, 'pg.dead', { name: this.name, reason })
    this.client.connection.stream.destroy()
  }

  /** Resolves once `status` is the server's latest word: the ReadyForQuery after an error has arrived (or the connection died, or time ran out). */
  async settled(timeoutMs: number): Promise<void> {
    if (!this.awaitingReady || !this.alive) return
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      this.readyWaiters.push(resolve)
      timer = setTimeout(() => {
        this.markDead(`no ReadyForQuery within ${timeoutMs} ms`)
      }, timeoutMs)
    })
    clearTimeout(timer)
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
    const answered = this.client.query(sql).then(
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

  /** Ends the session politely; one that is dead, or does not answer within `timeoutMs`, is simply closed. */
  async end(timeoutMs: number): Promise<void> {
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
