import { type Duration, type Logger, WarmstartError } from '@warmstart/core'
import {
  checkOptions,
  emit,
  eventChannel,
  invalidOption,
  joinWithin,
  loggerOption,
  logSafely,
  timeLimitOption,
  withTimeout,
} from '@warmstart/core/internal'
import { isThenable } from './thenable.js'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    /** A lazy made its instance; `durationMs` is the factory's time. */
    'client.created': { name: string; durationMs: number }
    /** A lazy handed out its current instance again; `validationMs` when `validate` ran. */
    'client.reused': { name: string; validationMs?: number }
    /** The factory threw or rejected; the error reaches the caller and nothing is cached. */
    'client.create-failed': { name: string; durationMs: number; error: unknown }
    /**
     * A caller (or, at `createTimeout`, every caller) stopped waiting for a creation after `ms` and
     * got `LazyTimeoutError`; `abandoned` when the creation was let go with it.
     */
    'client.create-timeout': { name: string; ms: number; abandoned: boolean }
    /** `validate` rejected the current instance (returned false, threw or rejected). */
    'client.validated-stale': { name: string; durationMs: number; error?: unknown }
    /** An instance was let go: replaced after a stale validation, reset, or created after a reset. */
    'client.disposed': {
      name: string
      reason: 'stale' | 'reset' | 'superseded'
      durationMs: number
      /** What `dispose` threw, if it failed (reported, never thrown at the caller). */
      error?: unknown
    }
  }
}

interface LazyOptionsBase<T> {
  /** Names the lazy in events and log lines (default: the factory's name, or `'lazy'`). */
  name?: string
  /** Releases an instance that is let go (stale, reset). Its failures are reported, not thrown. */
  dispose?: (value: T) => void | Promise<void>
  /** Where a failed or timed-out `dispose` or `validate` is reported. */
  logger?: Logger
  /**
   * How long an asynchronous `validate` or `dispose` may take (default `'1s'`). A validation that
   * has not answered by then marks the instance stale; a dispose that has not finished is left
   * behind (reported) and the next instance is made. A half-open connection's `end()` after a
   * freeze can wait forever, and every later `get()` with it.
   */
  hookTimeout?: Duration
}

export interface SyncLazyOptions<T> extends LazyOptionsBase<T> {
  /** Runs on every reuse; `false` (or a throw) marks the instance stale: disposed and recreated. */
  validate?: (value: T) => boolean
}

export interface AsyncLazyOptions<T> extends LazyOptionsBase<T> {
  /** Runs on every reuse; `false`, a throw or a rejection marks the instance stale. */
  validate?: (value: T) => boolean | Promise<boolean>
  /**
   * The longest a creation may take (default `'30s'`, at most `'15m'`). Inside an invocation a
   * `get()` waits no longer than what is left of it less 100 ms. A caller that stops waiting gets
   * `LazyTimeoutError`; a creation that nobody waits for any longer, or that is older than this, is
   * abandoned: the factory's signal is aborted, its late instance disposed, and the next `get()`
   * starts a new one.
   */
  createTimeout?: Duration
}

/** A `get()` stopped waiting for a creation that did not settle in time (see `createTimeout`). */
export class LazyTimeoutError extends WarmstartError {
  /** How long the caller waited. */
  readonly ms: number

  constructor(lazy: string, ms: number) {
    super(
      'ERR_LAZY_TIMEOUT',
      `lazy "${lazy}": no instance within ${ms} ms (createTimeout, or what was left of the invocation); a creation that no caller waits for any longer is abandoned, and the next get() starts a new one`,
    )
    this.name = 'LazyTimeoutError'
    this.ms = ms
  }
}

interface LazyBase<T> {
  readonly name: string
  /** The current instance, or undefined; never creates and never validates. */
  peek(): T | undefined
  /** Disposes and forgets the current instance; a creation in flight will not become current. */
  reset(): Promise<void>
  /** Starts creation now (at module scope, during init); a failure is kept for no one and surfaces at the next `get()`. */
  prefetch(): void
}

/** A singleton made by a synchronous factory: `get()` returns the instance itself. */
export interface SyncLazy<T> extends LazyBase<T> {
  get(): T
}

/** A singleton made by an async factory: `get()` returns a promise, the same settled one while the instance is current. */
export interface AsyncLazy<T> extends LazyBase<T> {
  get(): Promise<T>
}

export type Lazy<T> = SyncLazy<T> | AsyncLazy<T>

/** Marks "no current instance": `undefined` may be a legitimate instance. */
const EMPTY: unique symbol = Symbol('warmstart.lazy.empty')

type DisposeReason = 'stale' | 'reset' | 'superseded'

/** Kept back from the invocation's remaining time, so that the handler can still answer after a timeout. */
const CREATE_MARGIN_MS = 100

/** An async creation in flight, shared by every `get()` that waits for it. */
interface Creation<T> {
  /** Settles with the factory's outcome, with a fresh creation's after reset(), or rejects once abandoned. */
  readonly promise: Promise<T>
  /** Wall-clock ms at which it counts as hung (`createTimeout` after it started). */
  readonly deadline: number
  /** Aborted when the creation is let go, so that the factory can stop its work. */
  readonly controller: AbortController
  timer: ReturnType<typeof setTimeout> | undefined
  /**
   * What the first caller still waiting was handed: the promise later get()s return once the
   * instance is current, so that a caller that watched it (clientsMiddleware) finds it settled.
   */
  first: Promise<T> | undefined
  resolve(value: T | Promise<T>): void
  reject(error: unknown): void
}

class LazyValue<T> {
  readonly name: string
  readonly #factory: (signal: AbortSignal) => T | Promise<T>
  readonly #validate: ((value: T) => boolean | Promise<boolean>) | undefined
  readonly #dispose: ((value: T) => void | Promise<void>) | undefined
  readonly #logger: Logger | undefined
  /** What `get()` hands out while the instance is current: the instance (sync) or its settled promise (async). */
  #result: T | Promise<T> | typeof EMPTY = EMPTY
  /**
   * `#result` when reuse needs no validation, else undefined: the warm path reads this one field.
   * Compared with a constant rather than with EMPTY, a module binding the JIT loads on every call
   * (an instance that is itself `undefined` takes the slow path, which reads `#result`).
   */
  #warm: T | Promise<T> | undefined = undefined
  /** The channel of `client.reused`, held by the instance for the same reason: a field, not an imported binding. */
  readonly #reused = eventChannel('client.reused')
  /** The details of `client.reused` on the warm path, made once (publishing still allocates the event itself). */
  readonly #reusedDetails: { readonly name: string }
  readonly #hookTimeout: number
  readonly #createTimeout: number
  /** The async creation in flight; once it is let go (reset, deadline), its result is never adopted. */
  #creation: Creation<T> | undefined
  /**
   * Callers of the creation in flight that wait with a deadline of their own (their invocation's)
   * earlier than the creation's, and have not given up yet: when the last gives up, nobody is left to
   * wait and the creation is abandoned. Carried over to the fresh creation a reset() moves them to.
   */
  #waiting = 0
  /** A caller waits for the creation in flight until its deadline: giving up of the others does not abandon it. */
  #held = false
  #value: T | undefined
  /** Set once the factory has returned a promise: from then on `get()` always returns one. */
  #async = false
  /** A validation and its replacement, that concurrent callers join (a creation is `#creation`). */
  #pending: Promise<T> | undefined
  /** Bumped by `reset()`, so that work started before it cannot install its result after it. */
  #generation = 0
  /**
   * True while the factory or `validate` runs synchronously: a `get()` then (the factory asking for
   * its own value) can never be answered, and would call the factory again, and again, until the
   * stack overflows, making an instance (a connection) each time.
   */
  #running = false

  constructor(factory: (signal: AbortSignal) => T | Promise<T>, options: AsyncLazyOptions<T>) {
    this.name = options.name ?? (factory.name || 'lazy')
    this.#factory = factory
    this.#validate = options.validate
    this.#dispose = options.dispose
    this.#logger = options.logger
    this.#hookTimeout = timeLimitOption('lazy', 'hookTimeout', options.hookTimeout, 1_000)
    this.#createTimeout = timeLimitOption('lazy', 'createTimeout', options.createTimeout, 30_000)
    this.#reusedDetails = Object.freeze({ name: this.name })
  }

  get(): T | Promise<T> {
    // The warm path: two field reads and two checks, small enough for the JIT to inline into
    // the caller. Everything else, emit included, lives out of line.
    const warm = this.#warm
    if (warm !== undefined) {
      if (this.#reused.active) this.#reused.publish(this.#reusedDetails)
      return warm
    }
    return this.#getSlow()
  }

  peek(): T | undefined {
    return this.#result === EMPTY ? undefined : this.#value
  }

  async reset(): Promise<void> {
    this.#generation++
    this.#pending = undefined
    const creation = this.#creation
    const current = this.#result === EMPTY ? EMPTY : (this.#value as T)
    this.#forget()
    if (creation !== undefined) this.#supersede(creation)
    if (current !== EMPTY) await this.#disposeSafely(current, 'reset')
  }

  prefetch(): void {
    if (this.#warm !== undefined) return
    try {
      // Not a caller that waits: a creation that hangs is abandoned once the callers that do wait
      // for it give up, however long init would have waited.
      const result = this.#getSlow(false)
      // The failure was reported as client.create-failed; the next get() creates again.
      if (isThenable(result)) result.then(undefined, () => {})
    } catch {
      // Same for a synchronous factory.
    }
  }

  /** `waits`: false for a start that no caller awaits (prefetch, a reset moving callers on). */
  #getSlow(waits = true): T | Promise<T> {
    if (this.#running) return this.#reentered()
    const creation = this.#creation
    if (creation !== undefined) return waits ? this.#join(creation) : creation.promise
    if (this.#pending !== undefined) return this.#joinPending(this.#pending)
    if (this.#result === EMPTY) return this.#create(waits)
    if (this.#validate !== undefined) return this.#reuse(this.#value as T, this.#result)
    // An instance that is `undefined`, which the warm path cannot tell from none.
    if (this.#reused.active) this.#reused.publish(this.#reusedDetails)
    return this.#result
  }

  #create(waits = true): T | Promise<T> {
    const started = performance.now()
    // Made before the factory runs: only its result tells whether the lazy is async.
    const controller = new AbortController()
    let produced: T | Promise<T>
    this.#running = true
    try {
      produced = this.#factory(controller.signal)
    } catch (error) {
      this.#createFailed(started, error)
      if (this.#async) return Promise.reject(error)
      throw error
    } finally {
      this.#running = false
    }
    if (!this.#async && !isThenable(produced)) {
      this.#adopt(produced, produced, started)
      return produced
    }
    this.#async = true
    const creation = this.#track(Promise.resolve(produced), controller, started)
    return waits ? this.#join(creation) : creation.promise
  }

  /** Makes `produced` the creation in flight, abandoned `createTimeout` after it started if not settled by then. */
  #track(produced: Promise<T>, controller: AbortController, started: number): Creation<T> {
    let resolve!: (value: T | Promise<T>) => void
    let reject!: (error: unknown) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    const ms = this.#createTimeout
    const creation: Creation<T> = {
      promise,
      deadline: Date.now() + ms,
      controller,
      timer: undefined,
      first: undefined,
      resolve,
      reject,
    }
    creation.timer = setTimeout(() => this.#abandon(creation, this.#timeoutError(ms, true)), ms)
    produced.then(
      (value) => {
        if (this.#creation !== creation) {
          // Let go meanwhile (reset, deadline): this instance never becomes current.
          void this.#disposeSafely(value, 'superseded')
          return
        }
        this.#settled(creation)
        this.#adopt(value, creation.first ?? promise, started)
        resolve(value)
      },
      (error: unknown) => {
        this.#createFailed(started, error)
        if (this.#creation !== creation) return
        this.#settled(creation)
        reject(error)
      },
    )
    this.#creation = creation
    return creation
  }

  /**
   * What a caller waits on: the creation itself, or, inside an invocation that ends before the
   * creation's deadline, the creation bounded by what is left of the invocation less a margin.
   */
  #join(creation: Creation<T>): Promise<T> {
    if (creation.deadline <= Date.now()) {
      // Past its deadline and not abandoned: its timer has not run yet (the process was frozen).
      this.#abandon(creation, this.#timeoutError(this.#createTimeout, true))
      return this.#getSlow() as Promise<T>
    }
    const joined: Promise<T> = joinWithin(creation.promise, creation.deadline, CREATE_MARGIN_MS, (ms) =>
      this.#gaveUp(creation, joined, ms),
    )
    if (joined === creation.promise) {
      this.#held = true
      creation.first ??= creation.promise
      return joined
    }
    this.#waiting++
    creation.first ??= joined
    return joined
  }

  /** A caller's own deadline passed: it stops waiting, and the last one to leave abandons the creation. */
  #gaveUp(joined: Creation<T>, bounded: Promise<T>, ms: number): LazyTimeoutError {
    // Its promise is rejected: it must not become the one handed out once the instance is current.
    if (joined.first === bounded) joined.first = undefined
    this.#waiting--
    const creation = this.#creation
    const last = creation !== undefined && this.#waiting === 0 && !this.#held
    const error = this.#timeoutError(ms, last)
    if (last) this.#abandon(creation, error)
    return error
  }

  /** The creation is hung: its callers get `error`, and the next get() starts a new one. */
  #abandon(creation: Creation<T>, error: LazyTimeoutError): void {
    if (this.#creation !== creation) return
    this.#letGo(creation, error)
    creation.reject(error)
  }

  /** reset() ran: the callers still waiting on the creation from before it get a fresh one now, even if the old one never settles. */
  #supersede(creation: Creation<T>): void {
    const waiting = this.#waiting
    const held = this.#held
    this.#letGo(creation, undefined)
    const fresh = this.#getSlow(false) as Promise<T>
    // The callers moved on wait for the fresh creation now.
    if (this.#creation !== undefined) {
      this.#waiting = waiting
      this.#held = held
    }
    creation.resolve(fresh)
  }

  /** The one way a creation is let go (reset, deadline): a late instance is then disposed as superseded. */
  #letGo(creation: Creation<T>, reason: unknown): void {
    this.#settled(creation)
    creation.controller.abort(reason)
  }

  #timeoutError(ms: number, abandoned: boolean): LazyTimeoutError {
    emit('client.create-timeout', { name: this.name, ms, abandoned })
    return new LazyTimeoutError(this.name, ms)
  }

  /** A get() from inside the factory or `validate` while it runs: thrown (sync lazy) or rejected, never a recursion. */
  #reentered(): never | Promise<T> {
    const error = new WarmstartError(
      'ERR_LAZY_REENTRANT',
      `lazy "${this.name}": get() was called by its own factory or validate while it ran; an instance cannot be made from itself`,
    )
    if (this.#async) return Promise.reject(error)
    throw error
  }

  #settled(creation: Creation<T>): void {
    clearTimeout(creation.timer)
    if (this.#creation !== creation) return
    this.#creation = undefined
    this.#waiting = 0
    this.#held = false
  }

  #reuse(value: T, result: T | Promise<T>): T | Promise<T> {
    const started = performance.now()
    let verdict: boolean | Promise<boolean>
    this.#running = true
    try {
      verdict = (this.#validate as (value: T) => boolean | Promise<boolean>)(value)
    } catch (error) {
      this.#running = false
      return this.#replaceStale(value, started, error)
    }
    this.#running = false
    if (!isThenable(verdict)) {
      if (!verdict) return this.#replaceStale(value, started, undefined)
      emit('client.reused', { name: this.name, validationMs: performance.now() - started })
      return result
    }
    if (!this.#async) {
      verdict.then(undefined, () => {})
      throw new WarmstartError(
        'ERR_LAZY_ASYNC_VALIDATE',
        `lazy "${this.name}": validate returned a promise but the factory is synchronous; make the factory async or validate synchronously`,
      )
    }
    const validation = this.#validateAsync(verdict, value, started)
    this.#pending = validation
    return this.#joinPending(validation)
  }

  /**
   * What a caller waits on while the instance is validated or replaced: that work, bounded by what
   * is left of the caller's own invocation less a margin. The work goes on for the other callers
   * (under Managed Instances the one that started it may have had far less time left).
   */
  #joinPending(pending: Promise<T>): Promise<T> {
    return joinWithin(pending, Number.POSITIVE_INFINITY, CREATE_MARGIN_MS, (ms) =>
      this.#timeoutError(ms, false),
    )
  }

  async #validateAsync(verdict: Promise<boolean>, value: T, started: number): Promise<T> {
    const generation = this.#generation
    let fresh = false
    let failure: unknown
    try {
      fresh = await withTimeout(
        () => verdict,
        this.#hookTimeout,
        () => this.#timedOut('validate'),
      )
    } catch (error) {
      failure = error
    }
    if (generation !== this.#generation) return this.get()
    this.#pending = undefined
    if (!fresh) return this.#replaceStale(value, started, failure)
    emit('client.reused', { name: this.name, validationMs: performance.now() - started })
    return value
  }

  #replaceStale(stale: T, started: number, error: unknown): T | Promise<T> {
    if (error instanceof WarmstartError && error.code === 'ERR_LAZY_HOOK_TIMEOUT')
      logSafely(this.#logger, 'warn', error.message, { lazy: this.name })
    emit('client.validated-stale', {
      name: this.name,
      durationMs: performance.now() - started,
      ...(error === undefined ? {} : { error }),
    })
    this.#forget()
    if (!this.#async) {
      void this.#disposeSafely(stale, 'stale')
      return this.#create()
    }
    const generation = this.#generation
    // The old instance is released before its successor is made (one connection at a time);
    // callers arriving meanwhile join this replacement rather than start their own.
    const replacement = this.#disposeSafely(stale, 'stale').then(() => {
      if (this.#pending === replacement) this.#pending = undefined
      return generation === this.#generation ? this.#createReplacement() : this.get()
    })
    this.#pending = replacement
    return replacement
  }

  /**
   * The successor of a stale instance. Its callers wait on it through `#joinPending`, each bounded
   * by its own deadline and not counted as waiting, so it is held (as by a caller without a
   * deadline) and ends at `createTimeout` at most: a short invocation joining it late and giving
   * up does not abandon it under those still waiting.
   */
  #createReplacement(): T | Promise<T> {
    const made = this.#create(false)
    if (this.#creation !== undefined) this.#held = true
    return made
  }

  #adopt(value: T, result: T | Promise<T>, started: number): void {
    this.#value = value
    this.#result = result
    if (this.#validate === undefined) this.#warm = result
    emit('client.created', { name: this.name, durationMs: performance.now() - started })
  }

  #forget(): void {
    this.#result = EMPTY
    this.#warm = undefined
    this.#value = undefined
  }

  #createFailed(started: number, error: unknown): void {
    emit('client.create-failed', { name: this.name, durationMs: performance.now() - started, error })
  }

  /**
   * Runs `dispose` and reports the outcome; a failure is never thrown, since a broken old instance
   * must not fail the caller's request. Synchronous when `dispose` is.
   */
  #disposeSafely(value: T, reason: DisposeReason): Promise<void> {
    const started = performance.now()
    let outcome: void | Promise<void>
    try {
      outcome = this.#dispose?.(value)
    } catch (error) {
      this.#reportDisposed(reason, started, error)
      return Promise.resolve()
    }
    if (!isThenable(outcome)) {
      this.#reportDisposed(reason, started, undefined)
      return Promise.resolve()
    }
    const disposing = Promise.resolve(outcome)
    return withTimeout(
      () => disposing,
      this.#hookTimeout,
      () => this.#timedOut('dispose'),
    ).then(
      () => this.#reportDisposed(reason, started, undefined),
      (error: unknown) => this.#reportDisposed(reason, started, error ?? new Error('dispose rejected')),
    )
  }

  #timedOut(hook: 'validate' | 'dispose'): WarmstartError {
    return new WarmstartError(
      'ERR_LAZY_HOOK_TIMEOUT',
      `lazy "${this.name}": ${hook} did not finish within ${this.#hookTimeout} ms (hookTimeout); the instance was let go`,
    )
  }

  #reportDisposed(reason: DisposeReason, started: number, error: unknown): void {
    const durationMs = performance.now() - started
    if (error === undefined) {
      emit('client.disposed', { name: this.name, reason, durationMs })
      return
    }
    emit('client.disposed', { name: this.name, reason, durationMs, error })
    logSafely(this.#logger, 'warn', `lazy "${this.name}": dispose failed`, { lazy: this.name, reason, error })
  }
}

function checkFunction(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'function')
    throw invalidOption('lazy', option, 'must be a function')
}

/**
 * A singleton created on the first `get()`, never at import. Concurrent callers share one
 * creation; a failed creation is not cached; `validate` can reject a stale instance on reuse.
 * An async factory gets an AbortSignal, aborted when its creation is let go (`createTimeout`,
 * the invocation's deadline, `reset()`).
 */
export function lazy<T>(
  factory: (signal: AbortSignal) => Promise<T>,
  options?: AsyncLazyOptions<T>,
): AsyncLazy<T>
// A factory whose first parameter is not a signal (`connect(options?)`) is still an async lazy.
export function lazy<T>(factory: () => Promise<T>, options?: AsyncLazyOptions<T>): AsyncLazy<T>
export function lazy<T>(factory: () => T, options?: SyncLazyOptions<T>): SyncLazy<T>
export function lazy<T>(
  factory: (signal: AbortSignal) => T | Promise<T>,
  options: AsyncLazyOptions<T> = {},
): Lazy<T> {
  if (typeof factory !== 'function')
    throw invalidOption('lazy', 'factory', 'must be a function that creates the value')
  checkOptions('lazy', options, ['name', 'validate', 'dispose', 'logger', 'hookTimeout', 'createTimeout'])
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw invalidOption('lazy', 'name', 'must be a non-empty string')
  }
  checkFunction(options.validate, 'validate')
  checkFunction(options.dispose, 'dispose')
  loggerOption('lazy', options.logger)
  return new LazyValue(factory, options) as Lazy<T>
}
