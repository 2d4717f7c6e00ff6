import type { LambdaContextLike } from '@warmstart/core'
import { eventChannel, InvocationSlots, LONGEST_INVOCATION_MS } from '@warmstart/core/internal'
import type { Client, QueryConfig, QueryResult, QueryResultRow } from 'pg'
import { describeError, isConnectionLost } from './classify.js'
import { openConnection } from './connect.js'
import { type Deadline, deadlineOf } from './deadline.js'
import { ConnectError, endedError } from './errors.js'
import { type ReplaceReason, report } from './events.js'
import type { LiveConnection } from './live-connection.js'
import type { ResolvedOptions } from './options.js'

/*
 * The words of this file, and who may change what:
 *
 * - A **slot** is a place for one connection. It keeps its place while the connection in it is
 *   replaced (`open`), checked (`validate`) or cleaned (`cleanUp`). The pool holds one slot in the
 *   classic mode, up to maxConnections under Lambda Managed Instances.
 * - A **lease** is one invocation's hold on one slot (by request id), from its first use (or
 *   pgMiddleware's `begin`) to its end (`finish`, or the pool's own `leave` for a lease nobody ends
 *   explicitly). A transaction is never shared between invocations because a slot has at most one
 *   held lease.
 * - `lease.active` (the queries of the lease in flight) is changed by `enter` and `leave` only.
 *   `lease.held` is set by `take` and cleared by `release` (or by `take` itself when the classic
 *   mode's next invocation takes the one slot over). `lease.starting` is set and cleared by `track`.
 * - A lease is **started** once its slot is taken and the slot's connection is ready: alive, clean,
 *   young enough, checked if it was idle for long. `start` does that; it waits for a slot when every
 *   slot is held, or when the server refused a new connection (53300) while the process holds others.
 * - A connection is handed to the next lease only when nothing is in flight on it: a statement
 *   the last holder left running is stopped first (`LiveConnection.interrupt`: cancelled on the
 *   server and proven idle by its ReadyForQuery, or the connection is closed).
 * - `end` takes every slot, lease and waiter out of the pool at once and aborts each slot's
 *   signal: a slot whose signal is aborted is **ended**. Nothing opens on an ended slot, a connect
 *   in flight on one is stopped (its socket closed), and its leases and waiters fail as `ended`;
 *   what starts after `end` finds an empty pool and opens a new connection.
 */

/** One place for a connection. */
interface Slot {
  /**
   * Aborted by `end`: the slot is out of the pool, and nothing opens on it again. One per slot, not
   * one per pool: a burst of connects would put more listeners on a shared signal than Node allows
   * without a MaxListenersExceededWarning.
   */
  readonly ending: AbortController
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

/** An invocation's hold on a slot, from its first use (or pgMiddleware's begin) to its end. */
export interface Lease {
  key: string
  /** Undefined only while it waits for a slot. */
  slot: Slot | undefined
  /** From `take` to `release` (or, in the classic mode, until another invocation takes its slot over). */
  held: boolean
  /** Started by pgMiddleware, which ends it; otherwise the pool decides when it ends. */
  explicit: boolean
  /** The invocation's context (pgMiddleware): its remaining time bounds statements and connects. Dropped when the lease ends. */
  context: LambdaContextLike | undefined
  /**
   * When its invocation ends (`performance.now()`), under Managed Instances: past it the lease is
   * over whether or not anyone ended it (a handler that threw inside a transaction, outside
   * pgMiddleware). Undefined in the classic mode, where the next invocation takes the slot over.
   */
  endsAt: number | undefined
  /** Queries of this invocation in flight: changed by `enter` and `leave` only. */
  active: number
  /** Pending while its slot is taken and the connection made ready; undefined once that is done. */
  starting: Promise<void> | undefined
}

/** A lease waiting for a slot: given one when a holder releases it, or failed by `end`. */
interface Waiter {
  give(slot: Slot): void
  fail(error: Error): void
}

function ignore(): void {}

const reuse = /* @__PURE__ */ eventChannel('pg.reuse')

function newSlot(): Slot {
  return {
    ending: new AbortController(),
    live: undefined,
    opening: undefined,
    checking: undefined,
    replaceReason: undefined,
    lease: undefined,
  }
}

/**
 * The connections of one environment: one slot in the classic mode, up to the concurrency under
 * Lambda Managed Instances. Each invocation (by request id) holds one slot for its duration.
 */
export class ConnectionPool {
  readonly #slots: Slot[] = []
  /** The leases by request id, under Managed Instances. The classic mode has one slot and finds its lease there. */
  readonly #leases = new InvocationSlots<Lease>()
  readonly #waiters: Waiter[] = []
  /** Connections being closed by the sweep, out of their slots: `end` waits for them too. */
  readonly #closing = new Set<LiveConnection>()
  /** Classic Lambda: one slot, one invocation at a time. */
  readonly #single: boolean
  #sweepTimer: NodeJS.Timeout | undefined
  #reclaimTimer: NodeJS.Timeout | undefined
  readonly #options: ResolvedOptions

  constructor(options: ResolvedOptions) {
    this.#options = options
    this.#single = options.maxConnections === 1
  }

  /** The lease `key` holds, if any. */
  lease(key: string): Lease | undefined {
    if (!this.#single) return this.#leases.get(key)
    const lease = this.#slots[0]?.lease
    return lease?.held === true && lease.key === key ? lease : undefined
  }

  /**
   * pgMiddleware's start of an invocation: its checked client. A free slot whose connection can be
   * handed over as it is (alive, clean, young enough, used recently) is taken without starting the
   * lease (no round trip, no lease object); otherwise the lease is started (open, replace, check,
   * clean up, wait for a slot). One async path: Middy awaits every phase anyway, and a sync twin
   * saved 0.1 to 1 µs per warm invocation (measured on a loaded 2-core machine), not worth a
   * second state machine.
   */
  async begin(key: string, context: LambdaContextLike): Promise<Client> {
    if (this.lease(key) === undefined) {
      const slot = this.#handOver()
      if (slot !== undefined) {
        const live = slot.live as LiveConnection
        const lease = this.#take(slot, key, true, context)
        live.deadline = this.#deadline(lease)
        live.sessionUsed = true
        if (reuse.active || this.#options.logger !== undefined)
          report(this.#options.logger, 'pg.reuse', { name: this.#options.name, idleMs: live.idleMs() })
        return live.client
      }
    }
    const lease = await this.enter(key, true, context)
    try {
      return await this.client(lease)
    } finally {
      this.leave(lease)
    }
  }

  /** The invocation is over (pgMiddleware's after/onError): stop what it left running, roll back what it left open, free its slot. */
  async finish(key: string): Promise<void> {
    const lease = this.lease(key)
    if (lease === undefined) return
    await lease.starting?.catch(ignore)
    // A lease whose start failed was released then: its slot may be someone else's by now.
    if (!lease.held) return
    const live = lease.slot?.live
    if (live?.needsCleanUp(this.#options.resetSession) === true) await this.#cleanUp(live)
    this.#release(lease)
  }

  /** The lease of `key`, started (slot taken, leftovers cleaned, connection ready) if it was not; one more query of it in flight. */
  async enter(key: string, explicit: boolean, context: LambdaContextLike | undefined): Promise<Lease> {
    let lease = this.lease(key)
    if (lease === undefined) lease = this.#acquire(key, explicit, context)
    else if (explicit) {
      lease.explicit = true
      lease.context = context
      lease.endsAt = this.#endsAt(context)
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
    if (lease.explicit || lease.active > 0 || this.#single) return
    const live = lease.slot?.live
    if (live?.alive !== true || (live.status === 'I' && !live.busy)) this.#release(lease)
  }

  /** The connection of a started lease, replaced if dead and checked if idle for long, with the lease's deadline on it. */
  async ready(lease: Lease): Promise<LiveConnection> {
    const slot = lease.slot as Slot
    for (;;) {
      const live = slot.live
      if (live === undefined || !live.alive) {
        const opened = await this.#open(slot, this.#deadline(lease))
        opened.deadline = this.#deadline(lease)
        return opened
      }
      if (live.idleMs() <= this.#options.validateAfterIdle) {
        live.deadline = this.#deadline(lease)
        return live
      }
      slot.checking ??= this.#validate(slot, live).finally(() => {
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
      return await this.#send<R>(live, text, values)
    } catch (error) {
      if (!isConnectionLost(error)) throw error
      live.markDead(describeError(error))
      // Only a statement outside a transaction can run again alone: inside one, the work before it is gone.
      if (!idempotent || statusBefore !== 'I') throw error
      return this.#send<R>(await this.ready(lease), text, values)
    }
  }

  /** The pg.Client of a started lease, for code that needs the client itself. */
  async client(lease: Lease): Promise<Client> {
    const live = await this.ready(lease)
    live.sessionUsed = true
    return live.client
  }

  /**
   * Ends everything the pool holds now: open connections, connects in flight (stopped, their
   * sockets closed), invocations waiting for a slot. Resolves once none of their sockets is open.
   * What asks for a connection afterwards starts from an empty pool.
   */
  async end(): Promise<void> {
    clearTimeout(this.#sweepTimer)
    this.#sweepTimer = undefined
    clearTimeout(this.#reclaimTimer)
    this.#reclaimTimer = undefined
    const slots = this.#slots.splice(0)
    const closing = [...this.#closing]
    this.#leases.clear()
    for (const slot of slots) slot.ending.abort(endedError(this.#options.name, 0))
    for (const waiter of this.#waiters.splice(0)) waiter.fail(endedError(this.#options.name, 0))
    const timeout = this.#options.validateTimeout
    await Promise.all([
      ...slots.map((slot) => this.#close(slot)),
      ...closing.map((live) => live.end(timeout)),
    ])
  }

  /** Closes an ended slot's connection, once its connect in flight (stopped by the slot's signal) has settled. */
  async #close(slot: Slot): Promise<void> {
    await slot.opening?.catch(ignore)
    await slot.live?.end(this.#options.validateTimeout)
  }

  /** The lease's deadline, read now from its invocation's remaining time. */
  #deadline(lease: Lease): Deadline {
    return deadlineOf(lease.context, this.#options.deadlineMargin)
  }

  #send<R extends QueryResultRow>(
    live: LiveConnection,
    text: string | QueryConfig<unknown[]>,
    values: unknown[] | undefined,
  ): Promise<QueryResult<R>> {
    live.sessionUsed = true
    live.lastUsedAt = this.#options.clock.now()
    return live.client.query<R>(text, values)
  }

  /** A new lease for `key`: its slot taken now when one is free, else once one is given back. */
  #acquire(key: string, explicit: boolean, context: LambdaContextLike | undefined): Lease {
    const slot = this.#freeSlot()
    let lease: Lease
    if (slot !== undefined) lease = this.#take(slot, key, explicit, context)
    else {
      lease = {
        key,
        slot: undefined,
        held: true,
        explicit,
        context,
        endsAt: this.#endsAt(context),
        active: 0,
        starting: undefined,
      }
      this.#leases.set(key, lease)
    }
    this.#track(lease, this.#start(lease))
    return lease
  }

  /** Keeps the promise of the lease's start while it runs: a started lease has nothing pending. */
  #track(lease: Lease, starting: Promise<void>): void {
    lease.starting = starting
    starting.then(() => {
      lease.starting = undefined
    }, ignore)
  }

  /**
   * Takes a slot for the lease (waiting for one when needed) and makes its connection ready:
   * leftovers of the last holder stopped and cleaned, replaced if dead or old, checked if idle.
   * When the server refuses a new connection (53300) while the process holds others, the lease
   * gives its empty slot up and waits for one of theirs, within its deadline.
   */
  async #start(lease: Lease): Promise<void> {
    try {
      for (;;) {
        if (lease.slot === undefined) await this.#waitForSlot(lease)
        const slot = lease.slot as Slot
        try {
          await this.#prepare(lease, slot)
          return
        } catch (error) {
          if (
            !(
              error instanceof ConnectError &&
              error.reason === 'too-many-connections' &&
              !slot.ending.signal.aborted &&
              this.#othersAlive(slot)
            )
          )
            throw error
          this.#slots.splice(this.#slots.indexOf(slot), 1)
          slot.lease = undefined
          lease.slot = undefined
        }
      }
    } catch (error) {
      this.#release(lease)
      throw error
    }
  }

  async #prepare(lease: Lease, slot: Slot): Promise<void> {
    const existing = slot.live?.alive === true ? slot.live : undefined
    if (existing !== undefined && existing.ageMs() > this.#options.maxLifetime) {
      slot.replaceReason = 'max-lifetime'
      await existing.end(this.#options.validateTimeout)
    } else if (existing !== undefined) {
      // Whatever the previous holder left (a running statement, an open transaction, session state) goes before anyone sees it.
      await this.#cleanUp(existing)
    }
    const idleMs = existing?.idleMs() ?? 0
    const live = await this.ready(lease)
    if (live === existing && idleMs <= this.#options.validateAfterIdle) {
      report(this.#options.logger, 'pg.reuse', { name: this.#options.name, idleMs })
    }
  }

  /** Another slot of this process has a live connection: an invocation can wait for it. */
  #othersAlive(slot: Slot | undefined): boolean {
    return this.#slots.some((other) => other !== slot && other.live?.alive === true)
  }

  /** Resolves once a slot is given to the lease; rejects at its deadline (outside an invocation: after connectTimeout). */
  #waitForSlot(lease: Lease): Promise<void> {
    // Every other holder may have left while this lease's connect was refused: nobody would wake it.
    const free =
      this.#slots.find((slot) => slot.lease?.held !== true && slot.live?.alive === true) ?? this.#overSlot()
    if (free !== undefined) {
      free.lease = lease
      lease.slot = free
      return Promise.resolve()
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        give(free) {
          clearTimeout(timer)
          free.lease = lease
          lease.slot = free
          resolve()
        },
        fail(error) {
          clearTimeout(timer)
          reject(error)
        },
      }
      const deadline = this.#deadline(lease)
      const wait = deadline === undefined ? this.#options.connectTimeout : deadline - performance.now()
      const timer = setTimeout(
        () => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
          reject(
            new ConnectError(
              `pgConnection "${this.#options.name}": every connection of this process stayed busy (all maxConnections held, or the server refused more: 53300) for the time the invocation had`,
              { attempts: 0, reason: 'too-many-connections', cause: undefined, outOfTime: true },
            ),
          )
        },
        Math.max(0, wait),
      )
      this.#waiters.push(waiter)
      this.#scheduleReclaim()
    })
  }

  /** A free slot whose connection can be handed over as it is: no round trip, nothing to clean or wait for. */
  #handOver(): Slot | undefined {
    const now = this.#options.clock.now()
    for (const slot of this.#slots) {
      const live = slot.live
      if (slot.lease?.held === true || slot.checking !== undefined || live === undefined || !live.alive)
        continue
      if (live.needsCleanUp(this.#options.resetSession)) continue
      if (
        now - live.lastUsedAt <= this.#options.validateAfterIdle &&
        now - live.createdAt <= this.#options.maxLifetime
      )
        return slot
    }
    return undefined
  }

  /** A slot nobody holds (one with a live connection first), a new one while there is room, or in the classic mode the one slot. */
  #freeSlot(): Slot | undefined {
    let free: Slot | undefined
    for (const slot of this.#slots) {
      if (slot.lease?.held === true) continue
      if (slot.live?.alive === true) return slot
      free ??= slot
    }
    if (free !== undefined) return free
    if (this.#slots.length < this.#options.maxConnections) {
      const slot = newSlot()
      this.#slots.push(slot)
      return slot
    }
    // Classic Lambda runs one invocation at a time: a new request id means the last one is over.
    if (this.#single) return this.#slots[0]
    return this.#overSlot()
  }

  /**
   * A slot whose holder's invocation has ended without giving it back (a handler that threw inside
   * a transaction, outside pgMiddleware), taken from that holder: the next one cleans up what it
   * left (its statement stopped, its transaction rolled back) before using the connection.
   * Without this, each such invocation would keep a connection of the process for good.
   */
  #overSlot(): Slot | undefined {
    const now = performance.now()
    for (const slot of this.#slots) {
      const lease = slot.lease
      if (lease?.held !== true || lease.endsAt === undefined || now < lease.endsAt) continue
      if (slot.ending.signal.aborted) continue
      this.#drop(lease)
      return slot
    }
    return undefined
  }

  /**
   * When an invocation ends, under Managed Instances (the classic mode's next invocation takes the
   * one slot over anyway). One whose deadline warmstart never saw (no warmstart middleware in the
   * chain) still ends within Lambda's longest timeout of taking the connection.
   */
  #endsAt(context: LambdaContextLike | undefined): number | undefined {
    if (this.#single) return undefined
    return deadlineOf(context, 0) ?? performance.now() + LONGEST_INVOCATION_MS
  }

  /** The lease is over without being released: it holds nothing, and its key may start a new one. */
  #drop(lease: Lease): void {
    lease.held = false
    lease.context = undefined
    if (!this.#single && this.#leases.get(lease.key) === lease) this.#leases.delete(lease.key)
  }

  /** While leases wait for a slot: when the first holder's invocation ends, its slot goes to the first of them. */
  #scheduleReclaim(): void {
    clearTimeout(this.#reclaimTimer)
    let first = Number.POSITIVE_INFINITY
    for (const slot of this.#slots) {
      const endsAt = slot.lease?.held === true ? slot.lease.endsAt : undefined
      if (endsAt !== undefined && endsAt < first) first = endsAt
    }
    if (first === Number.POSITIVE_INFINITY) return
    this.#reclaimTimer = setTimeout(
      () => {
        this.#reclaimTimer = undefined
        while (this.#waiters.length > 0) {
          const slot = this.#overSlot()
          if (slot === undefined) break
          ;(this.#waiters.shift() as Waiter).give(slot)
        }
        if (this.#waiters.length > 0) this.#scheduleReclaim()
      },
      Math.max(0, first - performance.now()),
    )
    this.#reclaimTimer.unref()
  }

  /** Gives the slot to `key`: with the slot's last lease object when nothing refers to it any more, else a new one. */
  #take(slot: Slot, key: string, explicit: boolean, context: LambdaContextLike | undefined): Lease {
    let lease = slot.lease
    if (lease !== undefined && !lease.held && lease.active === 0 && lease.starting === undefined) {
      lease.key = key
      lease.held = true
      lease.explicit = explicit
      lease.context = context
    } else {
      // Taken over (classic mode): the last holder is over, and nothing of it is kept.
      if (lease?.held === true) this.#drop(lease)
      lease = { key, slot, held: true, explicit, context, endsAt: undefined, active: 0, starting: undefined }
      slot.lease = lease
    }
    lease.endsAt = this.#endsAt(context)
    if (!this.#single) this.#leases.set(key, lease)
    return lease
  }

  #release(lease: Lease): void {
    // A lease taken over (classic mode) or released already holds nothing.
    if (!lease.held) return
    // A lease end() dropped: its key may hold a new lease by now (#drop checks).
    this.#drop(lease)
    const live = lease.slot?.live
    if (live !== undefined) live.deadline = undefined
    if (this.#single) return
    const slot = lease.slot
    // An ended slot is out of the pool: nobody may be given it.
    if (slot?.ending.signal.aborted === true) return
    // A lease that never got a slot (it gave up waiting) has none to pass on: the waiters keep their places.
    const waiter = slot === undefined ? undefined : this.#waiters.shift()
    if (waiter !== undefined) waiter.give(slot as Slot)
    else this.#scheduleSweep()
  }

  /** Under Managed Instances: once idleTimeout has passed, close the connections idle that long, all but one. */
  #scheduleSweep(): void {
    if (this.#sweepTimer !== undefined || this.#slots.length <= 1) return
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = undefined
      this.sweep()
    }, this.#options.idleTimeout)
    // An idle pool must not keep a script's process alive.
    this.#sweepTimer.unref()
  }

  /** Closes free connections idle past idleTimeout (and drops free slots whose connection is gone), keeping at least one slot. */
  sweep(): void {
    for (const slot of [...this.#slots]) {
      if (this.#slots.length <= 1) break
      // A held slot is in use; one being opened is about to be.
      if (slot.lease?.held === true || slot.opening !== undefined) continue
      const live = slot.live
      if (live?.alive === true && live.idleMs() < this.#options.idleTimeout) continue
      this.#slots.splice(this.#slots.indexOf(slot), 1)
      if (live?.alive === true) {
        report(this.#options.logger, 'pg.close-idle', {
          name: this.#options.name,
          idleMs: live.idleMs(),
          open: this.#slots.length,
        })
        this.#closing.add(live)
        void live.end(this.#options.validateTimeout).finally(() => this.#closing.delete(live))
      }
    }
    this.#scheduleSweep()
  }

  #open(slot: Slot, deadline: Deadline): Promise<LiveConnection> {
    // A query of a lease end() dropped (a retry, a start still running) must not open what end() closed.
    if (slot.ending.signal.aborted) return Promise.reject(endedError(this.#options.name, 0))
    if (slot.opening === undefined) {
      if (slot.live !== undefined) {
        report(this.#options.logger, 'pg.reconnect', {
          name: this.#options.name,
          reason: slot.replaceReason ?? 'dead',
        })
      }
      slot.replaceReason = undefined
      slot.opening = openConnection(this.#options, deadline, {
        canWait: () => this.#othersAlive(slot),
        signal: slot.ending.signal,
      })
        .then((live) => {
          slot.live = live
          // Ended between the connect's last check and here: end() closes slot.live once this settles.
          if (slot.ending.signal.aborted) throw endedError(this.#options.name, 0)
          return live
        })
        .finally(() => {
          slot.opening = undefined
        })
    }
    return slot.opening
  }

  async #validate(slot: Slot, live: LiveConnection): Promise<void> {
    const idleMs = live.idleMs()
    const started = performance.now()
    // An empty simple-protocol query: one round trip, no session state, nothing for RDS Proxy to pin on.
    const ok = await live.roundTrip(';', this.#options.validateTimeout)
    if (ok) live.lastUsedAt = this.#options.clock.now()
    else slot.replaceReason = 'validate-failed'
    report(this.#options.logger, 'pg.validate', {
      name: this.#options.name,
      idleMs,
      ok,
      durationMs: Math.round(performance.now() - started),
    })
  }

  async #cleanUp(live: LiveConnection): Promise<void> {
    // A statement still running (the invocation ended without waiting for it, or ran out of time) is stopped first.
    if (live.answeredWithError) await live.quiet(this.#options.validateTimeout)
    else if (live.busy) await live.interrupt()
    if (!live.alive) return
    const status = live.status
    if (status !== 'I') {
      // If the server does not answer in time the socket is closed, and the server rolls back itself.
      const ok = (await live.roundTrip('ROLLBACK', this.#options.validateTimeout)) && live.status === 'I'
      if (!ok) live.markDead('could not roll back')
      report(this.#options.logger, 'pg.rollback', { name: this.#options.name, status, ok })
    }
    if (this.#options.resetSession && live.sessionUsed && live.alive) {
      const ok = await live.roundTrip('DISCARD ALL', this.#options.validateTimeout)
      live.sessionUsed = false
      report(this.#options.logger, 'pg.reset', { name: this.#options.name, ok })
    }
  }
}
