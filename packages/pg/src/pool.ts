import { eventListening, type LambdaContextLike } from '@warmstart/core'
import type { Client, QueryConfig, QueryResult, QueryResultRow } from 'pg'
import { describeError, isConnectionLost } from './classify.js'
import { openConnection } from './connect.js'
import { type Deadline, deadlineOf } from './deadline.js'
import { type ReplaceReason, report } from './events.js'
import type { LiveConnection } from './live-connection.js'
import type { ResolvedOptions } from './options.js'

/** One place for a connection: it keeps its place while the connection in it is replaced. */
interface Slot {
  live: LiveConnection | undefined
  opening: Promise<LiveConnection> | undefined
  checking: Promise<void> | undefined
  /** Why the next open replaces a connection, when it is not simply dead. */
  replaceReason: ReplaceReason | undefined
  /**
   * The lease that holds the slot, or the last one that did. The next holder reuses that object once
   * nothing refers to it any more: a warm invocation allocates no lease.
   */
  lease: Lease | undefined
}

/** An invocation's hold on a slot, from its first use (or pgMiddleware's before) to its end. */
export interface Lease {
  key: string
  /** Undefined only while it waits for a slot (Managed Instances, every slot held). */
  slot: Slot | undefined
  /** From its start to its release (or, in the classic mode, until another invocation takes its slot over). */
  held: boolean
  /** Started by pgMiddleware, which ends it; otherwise the pool decides when it ends. */
  explicit: boolean
  /** The invocation's context (pgMiddleware): its remaining time bounds a connect. Dropped when the lease ends. */
  context: LambdaContextLike | undefined
  /** Queries of this invocation in flight. */
  active: number
  /** Pending while its slot is taken and the connection made ready; undefined once that is done. */
  starting: Promise<void> | undefined
}

type Waiter = (slot: Slot) => void

function ignore(): void {}

function newLease(
  key: string,
  slot: Slot | undefined,
  explicit: boolean,
  context: LambdaContextLike | undefined,
): Lease {
  return { key, slot, held: true, explicit, context, active: 0, starting: undefined }
}

/**
 * The connections of one environment: one slot in the classic mode, up to the concurrency under
 * Lambda Managed Instances. Each invocation (by request id) holds one slot for its duration, so a
 * transaction is never shared between invocations.
 */
export class ConnectionPool {
  private readonly slots: Slot[] = []
  /** The leases by request id, under Managed Instances. The classic mode has one slot and finds its lease there. */
  private readonly leases = new Map<string, Lease>()
  private readonly waiters: Waiter[] = []
  /** Classic Lambda: one slot, one invocation at a time. */
  private readonly single: boolean

  constructor(private readonly options: ResolvedOptions) {
    this.single = options.maxConnections === 1
  }

  /** The lease `key` holds, if any. */
  lease(key: string): Lease | undefined {
    if (!this.single) return this.leases.get(key)
    const lease = this.slots[0]?.lease
    return lease?.held === true && lease.key === key ? lease : undefined
  }

  /**
   * pgMiddleware's start of an invocation: its checked client. At once, without a promise, when a
   * free slot's connection can be handed over as it is (alive, clean, young enough, used recently);
   * otherwise once whatever that takes is done (open, replace, check, clean up, wait for a slot).
   */
  begin(key: string, context: LambdaContextLike): Client | Promise<Client> {
    if (this.lease(key) === undefined) {
      const slot = this.handOver()
      if (slot !== undefined) {
        const live = slot.live as LiveConnection
        this.hold(slot, key, true, context)
        live.sessionUsed = true
        if (eventListening.active || this.options.logger !== undefined)
          report(this.options.logger, 'pg.reuse', { name: this.options.name, idleMs: live.idleMs() })
        return live.client
      }
    }
    return this.beginLater(key, context)
  }

  /**
   * The invocation is over (pgMiddleware's after/onError): roll back what it left, free its slot.
   * Without a promise when it left nothing to clean.
   */
  finish(key: string): Promise<void> | undefined {
    const lease = this.lease(key)
    if (lease === undefined) return undefined
    if (lease.starting === undefined && lease.slot?.live?.needsCleanUp(this.options.resetSession) !== true) {
      this.release(lease)
      return undefined
    }
    return this.finishLater(lease)
  }

  /** The lease of `key`, started (slot taken, leftovers cleaned, connection ready) if it was not. */
  async enter(key: string, explicit: boolean, context: LambdaContextLike | undefined): Promise<Lease> {
    let lease = this.lease(key)
    if (lease === undefined) lease = this.acquire(key, explicit, context)
    else if (explicit) {
      lease.explicit = true
      lease.context = context
    }
    lease.active += 1
    if (lease.starting === undefined) return lease
    try {
      await lease.starting
      return lease
    } catch (error) {
      lease.active -= 1
      throw error
    }
  }

  /** A query of the lease is done: a lease nobody ends explicitly ends when its connection is idle again. */
  leave(lease: Lease): void {
    lease.active -= 1
    if (lease.explicit || lease.active > 0 || this.single) return
    const live = lease.slot?.live
    if (live?.status === 'I' || live?.alive !== true) this.release(lease)
  }

  /** The connection of a started lease, replaced if dead and checked if idle for long. */
  async ready(lease: Lease): Promise<LiveConnection> {
    const slot = lease.slot as Slot
    for (;;) {
      const live = slot.live
      if (live === undefined || !live.alive) return this.open(slot, deadlineOf(lease.context))
      if (live.idleMs() <= this.options.validateAfterIdle) return live
      slot.checking ??= this.validate(slot, live).finally(() => {
        slot.checking = undefined
      })
      await slot.checking
    }
  }

  /** Runs a query on the lease's connection; a lost connection is replaced for the next use. */
  async query<R extends QueryResultRow>(
    lease: Lease,
    text: string | QueryConfig<unknown[]>,
    values: unknown[] | undefined,
    idempotent: boolean,
  ): Promise<QueryResult<R>> {
    const live = await this.ready(lease)
    const statusBefore = live.status
    try {
      return await this.send<R>(live, text, values)
    } catch (error) {
      if (!isConnectionLost(error)) throw error
      live.markDead(describeError(error))
      // Only a statement outside a transaction can run again alone: inside one, the work before it is gone.
      if (!idempotent || statusBefore !== 'I') throw error
      return this.send<R>(await this.ready(lease), text, values)
    }
  }

  /** The pg.Client of a started lease, for code that needs the client itself. */
  async client(lease: Lease): Promise<Client> {
    const live = await this.ready(lease)
    live.sessionUsed = true
    return live.client
  }

  async end(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.live?.end(this.options.validateTimeout)))
  }

  private send<R extends QueryResultRow>(
    live: LiveConnection,
    text: string | QueryConfig<unknown[]>,
    values: unknown[] | undefined,
  ): Promise<QueryResult<R>> {
    live.sessionUsed = true
    live.lastUsedAt = this.options.clock.now()
    return live.client.query<R>(text, values)
  }

  private async beginLater(key: string, context: LambdaContextLike): Promise<Client> {
    const lease = await this.enter(key, true, context)
    try {
      return await this.client(lease)
    } finally {
      lease.active -= 1
    }
  }

  private async finishLater(lease: Lease): Promise<void> {
    await lease.starting?.catch(ignore)
    // A lease whose start failed was released then: its slot may be someone else's by now.
    if (!lease.held) return
    const live = lease.slot?.live
    if (live !== undefined) await this.cleanUp(live)
    this.release(lease)
  }

  /** A new lease for `key`: its slot taken now when one is free, else (Managed Instances) once one is given back. */
  private acquire(key: string, explicit: boolean, context: LambdaContextLike | undefined): Lease {
    const slot = this.freeSlot()
    if (slot !== undefined) {
      const lease = this.hold(slot, key, explicit, context)
      this.track(lease, this.start(lease))
      return lease
    }
    const lease = newLease(key, undefined, explicit, context)
    this.leases.set(key, lease)
    const given = new Promise<void>((resolve) => {
      this.waiters.push((free) => {
        free.lease = lease
        lease.slot = free
        resolve()
      })
    })
    this.track(
      lease,
      given.then(() => this.start(lease)),
    )
    return lease
  }

  /** Keeps the promise of the lease's start while it runs: a started lease has nothing pending. */
  private track(lease: Lease, starting: Promise<void>): void {
    lease.starting = starting
    starting.then(() => {
      lease.starting = undefined
    }, ignore)
  }

  /** Takes the slot's connection as it is, or makes it ready: leftovers of the last holder cleaned, replaced if dead or old, checked if idle. */
  private async start(lease: Lease): Promise<void> {
    const slot = lease.slot as Slot
    try {
      const existing = slot.live?.alive === true ? slot.live : undefined
      if (existing !== undefined && existing.ageMs() > this.options.maxLifetime) {
        slot.replaceReason = 'max-lifetime'
        await existing.end(this.options.validateTimeout)
      } else if (existing !== undefined) {
        // Whatever the previous holder left (an open transaction, session state) goes before anyone sees it.
        await this.cleanUp(existing)
      }
      const idleMs = existing?.idleMs() ?? 0
      const live = await this.ready(lease)
      if (live === existing && idleMs <= this.options.validateAfterIdle) {
        report(this.options.logger, 'pg.reuse', { name: this.options.name, idleMs })
      }
    } catch (error) {
      this.release(lease)
      throw error
    }
  }

  /** A free slot whose connection can be handed over as it is: no round trip, nothing to clean or wait for. */
  private handOver(): Slot | undefined {
    const now = this.options.clock.now()
    for (const slot of this.slots) {
      const live = slot.live
      if (slot.lease?.held === true || slot.checking !== undefined || live === undefined || !live.alive)
        continue
      if (live.needsCleanUp(this.options.resetSession)) continue
      if (
        now - live.lastUsedAt <= this.options.validateAfterIdle &&
        now - live.createdAt <= this.options.maxLifetime
      )
        return slot
    }
    return undefined
  }

  /** A slot nobody holds (one with a live connection first), a new one while there is room, or in the classic mode the one slot. */
  private freeSlot(): Slot | undefined {
    let free: Slot | undefined
    for (const slot of this.slots) {
      if (slot.lease?.held === true) continue
      if (slot.live?.alive === true) return slot
      free ??= slot
    }
    if (free !== undefined) return free
    if (this.slots.length < this.options.maxConnections) {
      const slot: Slot = {
        live: undefined,
        opening: undefined,
        checking: undefined,
        replaceReason: undefined,
        lease: undefined,
      }
      this.slots.push(slot)
      return slot
    }
    // Classic Lambda runs one invocation at a time: a new request id means the last one is over.
    return this.single ? this.slots[0] : undefined
  }

  /** Gives the slot to `key`: with the slot's last lease object when nothing refers to it any more, else a new one. */
  private hold(slot: Slot, key: string, explicit: boolean, context: LambdaContextLike | undefined): Lease {
    let lease = slot.lease
    if (lease !== undefined && !lease.held && lease.active === 0 && lease.starting === undefined) {
      lease.key = key
      lease.held = true
      lease.explicit = explicit
      lease.context = context
    } else {
      if (lease?.held === true) {
        // Taken over (classic mode): the last holder is over, and nothing of it is kept.
        lease.held = false
        lease.context = undefined
      }
      lease = newLease(key, slot, explicit, context)
      slot.lease = lease
    }
    if (!this.single) this.leases.set(key, lease)
    return lease
  }

  private release(lease: Lease): void {
    // A lease taken over (classic mode) or released already holds nothing.
    if (!lease.held) return
    lease.held = false
    lease.context = undefined
    if (!this.single) this.leases.delete(lease.key)
    this.waiters.shift()?.(lease.slot as Slot)
  }

  private open(slot: Slot, deadline: Deadline): Promise<LiveConnection> {
    if (slot.opening === undefined) {
      if (slot.live !== undefined) {
        report(this.options.logger, 'pg.reconnect', {
          name: this.options.name,
          reason: slot.replaceReason ?? 'dead',
        })
      }
      slot.replaceReason = undefined
      slot.opening = openConnection(this.options, deadline)
        .then((live) => {
          slot.live = live
          return live
        })
        .finally(() => {
          slot.opening = undefined
        })
    }
    return slot.opening
  }

  private async validate(slot: Slot, live: LiveConnection): Promise<void> {
    const idleMs = live.idleMs()
    const started = performance.now()
    // An empty simple-protocol query: one round trip, no session state, nothing for RDS Proxy to pin on.
    const ok = await live.roundTrip(';', this.options.validateTimeout)
    if (ok) live.lastUsedAt = this.options.clock.now()
    else slot.replaceReason = 'validate-failed'
    report(this.options.logger, 'pg.validate', {
      name: this.options.name,
      idleMs,
      ok,
      durationMs: Math.round(performance.now() - started),
    })
  }

  private async cleanUp(live: LiveConnection): Promise<void> {
    await live.settled(this.options.validateTimeout)
    if (!live.alive) return
    const status = live.status
    if (status !== 'I') {
      // If the server does not answer in time the socket is closed, and the server rolls back itself.
      const ok = (await live.roundTrip('ROLLBACK', this.options.validateTimeout)) && live.status === 'I'
      if (!ok) live.markDead('could not roll back')
      report(this.options.logger, 'pg.rollback', { name: this.options.name, status, ok })
    }
    if (this.options.resetSession && live.sessionUsed && live.alive) {
      const ok = await live.roundTrip('DISCARD ALL', this.options.validateTimeout)
      live.sessionUsed = false
      report(this.options.logger, 'pg.reset', { name: this.options.name, ok })
    }
  }
}
