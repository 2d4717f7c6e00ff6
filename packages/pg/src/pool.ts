import type { Client, QueryConfig, QueryResult, QueryResultRow } from 'pg'
import { describeError, isConnectionLost } from './classify.js'
import { type Deadline, openConnection } from './connect.js'
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
  /** The invocation that holds the slot, if any. */
  owner: string | undefined
}

/** An invocation's hold on a slot, from its first use (or pgMiddleware's before) to its end. */
export interface Lease {
  readonly key: string
  slot: Slot | undefined
  /** Started by pgMiddleware, which ends it; otherwise the pool decides when it ends. */
  explicit: boolean
  deadline: Deadline
  /** Queries of this invocation in flight. */
  active: number
  starting: Promise<void>
}

type Waiter = (slot: Slot) => void

/**
 * The connections of one environment: one slot in the classic mode, up to the concurrency under
 * Lambda Managed Instances. Each invocation (by request id) holds one slot for its duration, so a
 * transaction is never shared between invocations.
 */
export class ConnectionPool {
  private readonly slots: Slot[] = []
  private readonly leases = new Map<string, Lease>()
  private readonly waiters: Waiter[] = []

  constructor(private readonly options: ResolvedOptions) {}

  /** The lease of `key`, started (slot taken, leftovers cleaned, connection ready) if it was not. */
  async enter(key: string, explicit: boolean, deadline: Deadline): Promise<Lease> {
    let lease = this.leases.get(key)
    if (lease === undefined) {
      const created: Lease = {
        key,
        slot: undefined,
        explicit,
        deadline,
        active: 0,
        starting: Promise.resolve(),
      }
      created.starting = this.start(created)
      this.leases.set(key, created)
      lease = created
    } else if (explicit) {
      lease.explicit = true
      lease.deadline = deadline
    }
    lease.active += 1
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
    if (lease.explicit || lease.active > 0 || this.options.maxConnections === 1) return
    if (lease.slot?.live?.status === 'I' || lease.slot?.live?.alive !== true) this.release(lease)
  }

  /** The invocation is over (pgMiddleware's after/onError): roll back what it left, free its slot. */
  async finish(key: string): Promise<void> {
    const lease = this.leases.get(key)
    if (lease === undefined) return
    await lease.starting.catch(() => undefined)
    const live = lease.slot?.live
    if (live !== undefined) await this.cleanUp(live)
    this.release(lease)
  }

  lease(key: string): Lease | undefined {
    return this.leases.get(key)
  }

  /** The connection of a started lease, replaced if dead and checked if idle for long. */
  async ready(lease: Lease): Promise<LiveConnection> {
    const slot = lease.slot as Slot
    for (;;) {
      const live = slot.live
      if (live === undefined || !live.alive) return this.open(slot, lease.deadline)
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

  private async start(lease: Lease): Promise<void> {
    const slot = await this.take(lease.key)
    lease.slot = slot
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

  private take(key: string): Promise<Slot> {
    const free =
      this.slots.find((slot) => slot.owner === undefined && slot.live?.alive) ??
      this.slots.find((slot) => slot.owner === undefined)
    if (free !== undefined) return Promise.resolve(this.assign(free, key))
    if (this.slots.length < this.options.maxConnections) {
      const slot: Slot = {
        live: undefined,
        opening: undefined,
        checking: undefined,
        replaceReason: undefined,
        owner: key,
      }
      this.slots.push(slot)
      return Promise.resolve(slot)
    }
    if (this.options.maxConnections === 1) {
      // Classic Lambda runs one invocation at a time: a new request id means the last one is over.
      // (The new lease is not in the map yet: enter() adds it after start() has taken its slot.)
      this.leases.clear()
      return Promise.resolve(this.assign(this.slots[0] as Slot, key))
    }
    return new Promise((resolve) => this.waiters.push((slot) => resolve(this.assign(slot, key))))
  }

  private assign(slot: Slot, key: string): Slot {
    slot.owner = key
    return slot
  }

  private release(lease: Lease): void {
    // A lease no longer in the map was taken over (classic mode) or released already.
    if (this.leases.get(lease.key) !== lease) return
    this.leases.delete(lease.key)
    const slot = lease.slot as Slot
    slot.owner = undefined
    this.waiters.shift()?.(slot)
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
