import { WarmstartError } from '@warmstart/core'
import {
  callSafely,
  emit,
  InvocationSlots,
  logSafely,
  longLivedRoots,
  processWide,
  processWideState,
  trackInvocation,
  withTimeout,
} from '@warmstart/core/internal'
import { extractRequest } from './extract.js'
import { FastWalker, type WalkRoot } from './fast-walk.js'
import {
  describeFindings,
  type LeakFinding,
  LeakFoundError,
  markOutput,
  summarizeFindings,
} from './finding.js'
import { walkedGlobals } from './globals-baseline.js'
import type { MatchHow, ValueKind } from './kinds.js'
import { type Match, Matcher } from './matcher.js'
import { callerScript, lambdaHandler, ScopeReader } from './module-scope.js'
import { type DeepCheck, type LeakGuardOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { describeName, type Reveals, redact } from './redact.js'
import type { RequestRecord } from './request-record.js'
import { runtimeRecord } from './runtime-record.js'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    'leak.found': {
      invocation: string
      path: string
      kind: ValueKind
      match: MatchHow
      check: 'fast' | 'deep'
    }
    'leak.check': {
      invocation: string
      check: 'fast' | 'deep'
      durationMs: number
      nodes: number
      exhausted: boolean
      findings: number
    }
  }
}

/** A leak guard: note an invocation's request at its start, look for it after its end. */
export interface LeakGuard {
  /**
   * Notes the invocation's event and context (call before the handler runs). With `deep` set it
   * first runs the deep check of the invocations that ended since the last one began: in `throw`
   * mode it then rejects with LeakFoundError, and the invocation is not noted (do not run the handler).
   */
  begin(event: unknown, context: object): Promise<void>
  /**
   * Checks what outlives the invocation for its request data (call after the handler, whether it
   * returned or threw) and reports the findings by the mode. In `throw` mode it rejects with
   * LeakFoundError; `cause` is then attached to it (the handler's own error).
   */
  end(context: object, options?: { cause?: unknown }): Promise<LeakFinding[]>
  /** A handler that runs `begin`, the handler, then `end`. */
  wrap<TEvent, TContext extends object, TResult>(
    handler: (event: TEvent, context: TContext) => Promise<TResult> | TResult,
  ): (event: TEvent, context: TContext) => Promise<TResult>
  /**
   * The deep check now, for the last finished invocations (`remember`): a heap snapshot, so for tests
   * and CI. Call it between invocations, or from a later one: an invocation still in flight is never
   * judged. It needs the deep check: pass it (`guard.deepCheck(deepCheck)`, from
   * `@warmstart/leak-guard/deep`), or give it as the guard's `deep` option.
   */
  deepCheck(deep?: DeepCheck): Promise<LeakFinding[]>
}

/** An invocation in flight. */
interface InFlight {
  /** The request's event and context: never followed by the deep check while the request is in flight. */
  readonly context: object
  readonly event: unknown
  readonly record: RequestRecord | undefined
  readonly sampled: boolean
  /** The runtime's record of the request (see runtimeRecord). */
  readonly runtime: object | undefined
}

/** A finished invocation, as the deep check remembers it: its values, and its objects held weakly. */
interface Finished {
  readonly requestId: string
  readonly values: RequestRecord['values']
  readonly objects: readonly { readonly ref: WeakRef<object>; readonly kind: ValueKind }[]
  /** The runtime's record of the invocation (see runtimeRecord), which timers made in it carry along. */
  readonly runtime: WeakRef<object> | undefined
}

const REPORTED_LIMIT = 10_000
/** Ended invocations waiting for the deep check (the `deep` option) when more end than begin: the oldest go first. */
const PENDING_LIMIT = 64
/** Checks cut short whose values the next checks still look for, at most. */
const CARRIED_LIMIT = 8

/** Creates a leak guard. Use one per handler module; `leakGuardMiddleware` makes one for a Middy chain. */
export function leakGuard(options?: LeakGuardOptions): LeakGuard {
  return new Guard(resolveOptions(options))
}

/**
 * Every guard of the process, held weakly: a deep check skips what any guard keeps for itself
 * (remembered values of finished invocations), not only its own, or two guards in one process
 * (two handlers in one test file) would report each other's memory.
 */
const liveGuards = /* @__PURE__ */ processWide('leak-guard:guards', () => new Set<WeakRef<Guard>>())

class Guard implements LeakGuard {
  /** Invocations in flight by request id: one slot in the classic mode, a Map beside it only when they overlap. */
  private readonly inFlight = new InvocationSlots<InFlight>()
  /** The last `remember` finished invocations, for deepCheck(). */
  private readonly finished: Finished[] = []
  /** Finished invocations the deep check has not judged yet (`deep` set). */
  private pending: Finished[] = []
  private readonly reported = new Set<string>()
  /** Callbacks (a root's inspector or revision, an extractor, onFinding) that threw: each reported once. */
  private readonly failures = new Set<string>()
  /** Roots whose last listing threw part way: read in full next time, whatever their revision says. */
  private readonly brokenListings = new Set<string>()
  private readonly ownObjects = new WeakSet<object>()
  private readonly walker: FastWalker
  /**
   * Under Lambda Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY is set) requests overlap. Read once:
   * Lambda sets it before init and it never changes for the life of the process, and a read of
   * process.env costs more than the rest of an unsampled invocation.
   */
  private readonly managed = process.env.AWS_LAMBDA_MAX_CONCURRENCY !== undefined
  private readonly rule: { readonly minLength: number; readonly allow: readonly (string | RegExp)[] }
  /** Module and closure variables of the handler (see ScopeReader); undefined with `watch: false`. */
  private readonly scopes: ScopeReader | undefined
  /** The look-up of the handler Lambda runs, until it has settled. */
  private findingHandler: Promise<void> | undefined
  /** Checks cut short by the budget since the last complete one: their values are looked for too, where the walk goes on. */
  private carried: RequestRecord[] = []

  constructor(private readonly options: ResolvedOptions) {
    // The scope reader also reads promises' and WeakMaps' internal slots for the walker, watched
    // functions or not.
    const scopes = new ScopeReader()
    this.walker = new FastWalker(options.minLength, (value) => this.ownObjects.has(value), scopes)
    this.rule = { minLength: options.minLength, allow: options.allowValues }
    for (const own of [this, this.inFlight, this.finished, this.reported, this.failures, this.walker, scopes])
      this.ownObjects.add(own)
    liveGuards.add(new WeakRef(this))
    if (options.watch !== false) {
      this.scopes = scopes
      const script = callerScript()
      for (const fn of options.watch) scopes.watch(fn, script)
      // In Lambda: the handler the runtime runs, from the module it loaded. Usually found before
      // the first invocation; a check that comes sooner (a guard made in the handler) waits for it.
      const settled = (): void => {
        this.findingHandler = undefined
      }
      this.findingHandler = lambdaHandler().then((found) => {
        if (found !== undefined) scopes.watch(found.fn, found.script)
        settled()
      }, settled)
    }
  }

  /** What this guard keeps for itself, which no deep check (of any guard) reports. */
  private ownState(): object[] {
    const own: object[] = [
      this,
      this.inFlight,
      this.finished,
      this.pending,
      this.reported,
      this.walker,
      this.carried,
    ]
    for (const finished of new Set([...this.finished, ...this.pending])) {
      own.push(finished, finished.objects, finished.values)
      const runtime = finished.runtime?.deref()
      if (runtime !== undefined) own.push(runtime)
    }
    return own
  }

  /** The own state of every other live guard of the process. */
  private otherGuardsState(): object[] {
    const state: object[] = []
    for (const ref of liveGuards) {
      const guard = ref.deref()
      if (guard === undefined) liveGuards.delete(ref)
      else if (guard !== this) state.push(ref, ...guard.ownState())
    }
    return state
  }

  async begin(event: unknown, context: object): Promise<void> {
    const { requestId } = trackInvocation(context)
    const rate = this.options.sampleRate
    const sampled = rate >= 1 || (rate > 0 && this.options.random() < rate)
    // Under Managed Instances every request's values are needed, sampled or not: a value of a request still in flight is never reported.
    const record =
      sampled || this.managed
        ? extractRequest(event, context, requestId, this.rule, this.options.extractors, (index, error) =>
            this.callbackFailed(`extract[${index}]`, error, 'its values are not looked for'),
          )
        : undefined
    if (record !== undefined) this.own(record)
    this.inFlight.set(requestId, { context, event, record, sampled, runtime: runtimeRecord() })
    if (this.pending.length === 0) return
    try {
      // Noted first: the deep check skips this request's objects and never reports its values.
      await this.judgeEnded()
    } catch (error) {
      this.inFlight.delete(requestId)
      throw error
    }
  }

  async end(context: object, options?: { cause?: unknown }): Promise<LeakFinding[]> {
    // Nothing in flight: an end without its begin is not tracked as a new invocation of the environment.
    if (this.inFlight.size === 0) return []
    const { requestId } = trackInvocation(context)
    const entry = this.inFlight.get(requestId)
    if (entry === undefined || entry.context !== context) return []
    this.inFlight.delete(requestId)
    const { sampled, record, runtime } = entry
    if (!sampled || record === undefined) return []
    if (this.findingHandler !== undefined) {
      // No longer than the check's own budget: a look-up still going then is not waited for again.
      const finding = this.findingHandler
      await withTimeout(
        () => finding,
        this.options.maxMs,
        () => new Error('not found in time'),
      ).catch(() => undefined)
      this.findingHandler = undefined
    }
    const finished = this.remember(record, runtime)
    if (this.options.deep !== undefined) {
      this.pending.push(finished)
      if (this.pending.length > PENDING_LIMIT) this.pending.shift()
    }
    const checked = [record, ...this.carried]
    const matcher = new Matcher(checked, this.inFlightRecords())
    const known = this.revealer(checked)
    const { findings, exhausted } = this.fastCheck(matcher, record.requestId, known.reveals)
    known.dispose()
    // The walk goes on next time where it stopped: what it meets there may be this invocation's.
    this.carried = exhausted ? [record, ...this.carried].slice(0, CARRIED_LIMIT) : []
    return this.report(findings, options?.cause)
  }

  wrap<TEvent, TContext extends object, TResult>(
    handler: (event: TEvent, context: TContext) => Promise<TResult> | TResult,
  ): (event: TEvent, context: TContext) => Promise<TResult> {
    return async (event, context) => {
      await this.begin(event, context)
      let result: TResult
      try {
        result = await handler(event, context)
      } catch (error) {
        await this.end(context, { cause: error })
        throw error
      }
      await this.end(context)
      return result
    }
  }

  async deepCheck(deep?: DeepCheck): Promise<LeakFinding[]> {
    const search = deep ?? this.options.deep
    if (search === undefined || typeof search.search !== 'function')
      throw new WarmstartError(
        'ERR_NO_DEEP_CHECK',
        "leakGuard: deepCheck() needs the deep check: import { deepCheck } from '@warmstart/leak-guard/deep' and call guard.deepCheck(deepCheck), or pass it as the guard's deep option",
      )
    const ended = [...new Set([...this.finished, ...this.pending])]
    this.pending = []
    return this.judge(ended, search)
  }

  /** The invocations that ended before this one began are over: the runtime has sent their responses and dropped their requests. */
  private async judgeEnded(): Promise<void> {
    const ended = this.pending
    this.pending = []
    await this.judge(ended, this.options.deep as DeepCheck)
  }

  /** The deep check of invocations that have ended, while the ones in flight are excluded. */
  private async judge(ended: readonly Finished[], deep: DeepCheck): Promise<LeakFinding[]> {
    const keys = this.requestKeys()
    const records: RequestRecord[] = ended.map((finished) => ({
      requestId: finished.requestId,
      // A heap snapshot cannot tell which holder a string is reached through: a value that a
      // request-keyed cache holds as a key is not looked for by the deep check (the fast check
      // still finds it anywhere else).
      values: keys.size === 0 ? finished.values : finished.values.filter((value) => !keys.has(value.value)),
      objects: finished.objects.flatMap(({ ref, kind }) => {
        const object = ref.deref()
        return object === undefined ? [] : [{ object, kind }]
      }),
    }))
    if (records.length === 0) return []
    const matcher = new Matcher(records, this.inFlightRecords())
    const started = performance.now()
    const skipped: object[] = [...this.ownState(), matcher, liveGuards, ...this.otherGuardsState()]
    // The records the matcher and the path writer hold: the guard's own.
    skipped.push(records, ...records)
    for (const finished of ended) {
      skipped.push(finished, finished.objects, finished.values)
      const runtime = finished.runtime?.deref()
      if (runtime !== undefined) skipped.push(runtime)
    }
    for (const { context, event, record, runtime } of this.inFlight.values()) {
      skipped.push(context)
      if (typeof event === 'object' && event !== null) skipped.push(event)
      if (runtime !== undefined) skipped.push(runtime)
      if (record !== undefined) skipped.push(record, record.values)
    }
    const known = this.revealer(records)
    let result: Awaited<ReturnType<DeepCheck['search']>>
    try {
      result = await deep.search(matcher, skipped, known.reveals)
    } finally {
      matcher.dispose()
      known.dispose()
      skipped.length = 0
    }
    const findings = result.findings.map((found) => toFinding(found.path, found.match, 'deep'))
    emit('leak.check', {
      invocation: records.map((record) => record.requestId).join(','),
      check: 'deep',
      durationMs: performance.now() - started,
      nodes: result.nodes,
      exhausted: false,
      findings: findings.length,
    })
    return this.report(findings, undefined)
  }

  /** The string keys of the roots whose keys come from requests on purpose (see RegisterRootOptions.requestKeyed). */
  private requestKeys(): Set<string> {
    const keys = new Set<string>()
    for (const root of longLivedRoots()) {
      if (!root.requestKeyed) continue
      for (const [key] of this.listing(root.name, () => root.entries()))
        if (typeof key === 'string') keys.add(key)
    }
    return keys
  }

  private inFlightRecords(): RequestRecord[] {
    const records: RequestRecord[] = []
    for (const { record } of this.inFlight.values()) if (record !== undefined) records.push(record)
    return records
  }

  /**
   * What a path must not show: the values of the checked requests, of those in flight and of those
   * remembered. Built on first use, which is the first finding: a clean check never pays for it.
   */
  private revealer(checked: readonly RequestRecord[]): { reveals: Reveals; dispose(): void } {
    let records: readonly RequestRecord[] = checked
    let known: Matcher | undefined
    return {
      reveals: (text) => {
        known ??= new Matcher([...records, ...this.finishedRecords(), ...this.inFlightRecords()], [])
        return known.string(text) !== undefined
      },
      dispose: () => {
        known?.dispose()
        records = []
      },
    }
  }

  private finishedRecords(): RequestRecord[] {
    return [...this.finished, ...this.pending].map(({ requestId, values }) => ({
      requestId,
      values,
      objects: [],
    }))
  }

  private own(record: RequestRecord): void {
    this.ownObjects.add(record)
    this.ownObjects.add(record.values)
    this.ownObjects.add(record.objects)
  }

  private remember(record: RequestRecord, runtime: object | undefined): Finished {
    const finished: Finished = {
      requestId: record.requestId,
      values: record.values,
      objects: record.objects.map(({ object, kind }) => ({ ref: new WeakRef(object), kind })),
      runtime: runtime === undefined ? undefined : new WeakRef(runtime),
    }
    this.ownObjects.add(finished)
    this.ownObjects.add(finished.objects)
    this.finished.push(finished)
    if (this.finished.length > this.options.remember) this.finished.shift()
    return finished
  }

  private fastCheck(
    matcher: Matcher,
    invocation: string,
    reveals: Reveals,
  ): { findings: LeakFinding[]; exhausted: boolean } {
    const started = performance.now()
    // warmstart's own bookkeeping is no leak of the handler's, wherever it is held (a bundle's module scope).
    for (const state of processWideState()) this.ownObjects.add(state)
    // In order of where a handler's data is likeliest: globals it set, registered roots, its module
    // and closure variables, then the globals that were there before the guard loaded.
    const globals = walkedGlobals()
    const roots: WalkRoot[] = globals.changed.map(([name, value]) => ({ label: name, global: true, value }))
    const keyed: string[] = []
    for (const root of longLivedRoots()) {
      const revision = this.safely(root.name, 'revision', () => root.revision())
      if (revision === FAILED) continue
      if (root.requestKeyed) keyed.push(`${describeName(root.name, reveals)} → key "`)
      roots.push({
        label: root.name,
        value: root.target(),
        entries: () => this.listing(root.name, () => root.entries()),
        // A root whose last listing failed is read in full: that listing was no complete reading.
        revision: this.brokenListings.has(root.name) ? undefined : () => revision,
      })
    }
    if (this.scopes !== undefined)
      roots.push(
        ...this.scopes.roots(started + this.options.maxMs / 2, (value) => this.ownObjects.has(value)),
      )
    for (const [name, value] of globals.earlier) roots.push({ label: name, global: true, value })
    const left = Math.max(0, this.options.maxMs - (performance.now() - started))
    const result = this.walker.walk(roots, matcher, reveals, this.options.maxNodes, left)
    roots.length = 0
    const findings: LeakFinding[] = []
    for (const found of result.findings) {
      // A key of a root whose keys are request values on purpose (a per-tenant cache): not a leak; its values still are.
      if (keyed.some((prefix) => found.path.startsWith(prefix))) continue
      findings.push(toFinding(found.path, found.match, 'fast'))
    }
    emit('leak.check', {
      invocation,
      check: 'fast',
      durationMs: performance.now() - started,
      nodes: result.nodes,
      exhausted: result.exhausted,
      findings: findings.length,
    })
    return { findings, exhausted: result.exhausted }
  }

  /** Drops allowed and already reported places, then reports by the mode. */
  private report(all: readonly LeakFinding[], cause: unknown): LeakFinding[] {
    const findings: LeakFinding[] = []
    for (const finding of all) {
      if (this.allowed(finding.path)) continue
      // The kind too: two places whose paths are the same once redacted may hold different values.
      const key = `${finding.invocation}\u0000${finding.check}\u0000${finding.kind}\u0000${finding.path}`
      if (this.reported.has(key)) continue
      if (this.reported.size >= REPORTED_LIMIT) this.reported.clear()
      this.reported.add(key)
      findings.push(finding)
      emit('leak.found', {
        invocation: finding.invocation,
        path: finding.path,
        kind: finding.kind,
        match: finding.match,
        check: finding.check,
      })
    }
    if (findings.length === 0) return findings
    if (!callSafely(this.options.onFinding, findings))
      this.callbackFailed('onFinding', undefined, 'these findings may not have reached it')
    if (this.options.mode === 'throw')
      throw new LeakFoundError(findings, cause === undefined ? undefined : { cause })
    if (this.options.mode === 'warn') this.warn(findings)
    return findings
  }

  /**
   * Each finding once: the console gets the readable lines only (given the findings as details too,
   * it printed each twice); a logger of the user's (structured, JSON) gets one line that says how many
   * and the findings as details.
   */
  private warn(findings: readonly LeakFinding[]): void {
    const logger = this.options.logger
    if (logger === console) {
      // Called with the text alone: given an undefined details argument too, the console prints "undefined".
      try {
        console.warn(describeFindings(findings))
      } catch {
        // A console that throws (a closed stream): the findings still went to onFinding and leak.found.
      }
    } else logSafely(logger, 'warn', summarizeFindings(findings), { findings })
  }

  /**
   * A callback of the user's threw: reported once (by what threw, never the error's message, which
   * may carry the data it was handling), and the guard goes on without what it would have given.
   */
  private callbackFailed(what: string, error: unknown, consequence: string): void {
    if (this.failures.has(what)) return
    if (this.failures.size >= REPORTED_LIMIT) this.failures.clear()
    this.failures.add(what)
    const name = error instanceof Error ? ` (${error.name})` : ''
    logSafely(this.options.logger, 'error', `leak-guard: ${what} threw${name}; ${consequence}`)
  }

  /** A root's callback, called so that a throw skips the root instead of failing the invocation. */
  private safely<T>(root: string, callback: string, call: () => T): T | typeof FAILED {
    try {
      return call()
    } catch (error) {
      this.callbackFailed(`${root}:${callback}`, error, 'the root is skipped')
      return FAILED
    }
  }

  /** A root's listing, read so that an inspector that throws (at once, or part way) ends the listing there. */
  private *listing(
    root: string,
    list: () => Iterable<readonly [unknown, unknown]>,
  ): Generator<readonly [unknown, unknown]> {
    try {
      yield* list()
      this.brokenListings.delete(root)
    } catch (error) {
      if (this.brokenListings.size < REPORTED_LIMIT) this.brokenListings.add(root)
      this.callbackFailed(`${root}:inspect`, error, 'the rest of the root is skipped')
    }
  }

  private allowed(path: string): boolean {
    return this.options.allowPaths.some((pattern) => {
      if (typeof pattern === 'string') return path.startsWith(pattern)
      pattern.lastIndex = 0
      return pattern.test(path)
    })
  }
}

const FAILED: unique symbol = Symbol('failed')

function toFinding(path: string, match: Match, check: 'fast' | 'deep'): LeakFinding {
  return markOutput({
    path,
    kind: match.kind,
    match: match.how,
    value: match.value === undefined ? match.kind : redact(match.value),
    invocation: match.record.requestId,
    check,
  })
}
