import { emit, longLivedRoots, trackInvocation } from '@warmstart/core'
import { deepSearch } from './deep-search.js'
import { extractRequest } from './extract.js'
import { FastWalker, type WalkRoot } from './fast-walk.js'
import { describeFindings, type LeakFinding, LeakFoundError } from './finding.js'
import { changedGlobals } from './globals-baseline.js'
import type { MatchHow, ValueKind } from './kinds.js'
import { type Match, Matcher } from './matcher.js'
import { type LeakGuardOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { propertyStep, redact } from './redact.js'
import type { RequestRecord } from './request-record.js'

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
  /** Notes the invocation's event and context (call before the handler runs). */
  begin(event: unknown, context: object): void
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
  /** The deep check now, for the last finished invocations (`remember`): a heap snapshot, so for tests and CI. */
  deepCheck(): Promise<LeakFinding[]>
}

interface InFlight {
  readonly requestId: string
  readonly record: RequestRecord | undefined
  readonly sampled: boolean
}

/** A finished invocation, as `deepCheck()` remembers it: its values, and its objects held weakly. */
interface Finished {
  readonly requestId: string
  readonly values: RequestRecord['values']
  readonly objects: readonly { readonly ref: WeakRef<object>; readonly kind: ValueKind }[]
}

const REPORTED_LIMIT = 10_000

/** Creates a leak guard. Use one per handler module; `leakGuardMiddleware` makes one for a Middy chain. */
export function leakGuard(options?: LeakGuardOptions): LeakGuard {
  return new Guard(resolveOptions(options))
}

class Guard implements LeakGuard {
  private readonly inFlight = new Map<object, InFlight>()
  private readonly finished: Finished[] = []
  private readonly reported = new Set<string>()
  private readonly ownObjects = new WeakSet<object>()
  private readonly walker: FastWalker

  constructor(private readonly options: ResolvedOptions) {
    this.walker = new FastWalker(options.minLength, (value) => this.ownObjects.has(value))
    for (const own of [this, this.inFlight, this.finished, this.reported, this.walker])
      this.ownObjects.add(own)
  }

  begin(event: unknown, context: object): void {
    const { requestId } = trackInvocation(context)
    const sampled = this.options.sampleRate >= 1 || this.options.random() < this.options.sampleRate
    // Under Managed Instances every request's values are needed, sampled or not: a value of a request still in flight is never reported.
    const needed = sampled || process.env.AWS_LAMBDA_MAX_CONCURRENCY !== undefined
    const rule = { minLength: this.options.minLength, allow: this.options.allowValues }
    const record = needed
      ? extractRequest(event, context, requestId, rule, this.options.extractors)
      : undefined
    if (record !== undefined) this.own(record)
    this.inFlight.set(context, { requestId, record, sampled })
  }

  async end(context: object, options?: { cause?: unknown }): Promise<LeakFinding[]> {
    const entry = this.inFlight.get(context)
    if (entry === undefined) return []
    this.inFlight.delete(context)
    if (!entry.sampled || entry.record === undefined) return []
    const record = entry.record
    this.remember(record)
    const matcher = new Matcher([record], this.inFlightRecords())
    const findings = this.fastCheck(matcher, record.requestId)
    if (this.options.deep) findings.push(...(await this.deep(matcher, record.requestId)))
    return this.report(findings, options?.cause)
  }

  wrap<TEvent, TContext extends object, TResult>(
    handler: (event: TEvent, context: TContext) => Promise<TResult> | TResult,
  ): (event: TEvent, context: TContext) => Promise<TResult> {
    return async (event, context) => {
      this.begin(event, context)
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

  async deepCheck(): Promise<LeakFinding[]> {
    const records: RequestRecord[] = this.finished.map((finished) => ({
      requestId: finished.requestId,
      values: finished.values,
      objects: finished.objects.flatMap(({ ref, kind }) => {
        const object = ref.deref()
        return object === undefined ? [] : [{ object, kind }]
      }),
    }))
    if (records.length === 0) return []
    const matcher = new Matcher(records, this.inFlightRecords())
    const findings = await this.deep(matcher, records.map((record) => record.requestId).join(','))
    return this.report(findings, undefined)
  }

  private inFlightRecords(): RequestRecord[] {
    const records: RequestRecord[] = []
    for (const { record } of this.inFlight.values()) if (record !== undefined) records.push(record)
    return records
  }

  private own(record: RequestRecord): void {
    this.ownObjects.add(record)
    this.ownObjects.add(record.values)
    this.ownObjects.add(record.objects)
  }

  private remember(record: RequestRecord): void {
    const finished: Finished = {
      requestId: record.requestId,
      values: record.values,
      objects: record.objects.map(({ object, kind }) => ({ ref: new WeakRef(object), kind })),
    }
    this.ownObjects.add(finished)
    this.ownObjects.add(finished.objects)
    this.finished.push(finished)
    if (this.finished.length > this.options.remember) this.finished.shift()
  }

  private fastCheck(matcher: Matcher, invocation: string): LeakFinding[] {
    const started = performance.now()
    const roots: WalkRoot[] = changedGlobals().map(([name, value]) => ({
      label: `globalThis${propertyStep(name)}`,
      value,
    }))
    for (const root of longLivedRoots())
      roots.push({ label: root.name, value: root.target(), entries: () => root.entries() })
    const result = this.walker.walk(roots, matcher, this.options.maxNodes, this.options.maxMs)
    const findings = result.findings.map((found) => toFinding(found.path, found.match, 'fast'))
    emit('leak.check', {
      invocation,
      check: 'fast',
      durationMs: performance.now() - started,
      nodes: result.nodes,
      exhausted: result.exhausted,
      findings: findings.length,
    })
    return findings
  }

  private async deep(matcher: Matcher, invocation: string): Promise<LeakFinding[]> {
    const started = performance.now()
    const own: object[] = [this, this.inFlight, this.finished, this.reported, this.walker, matcher]
    for (const finished of this.finished) own.push(finished, finished.objects, finished.values)
    for (const record of this.inFlightRecords()) own.push(record, record.values)
    const result = await deepSearch(matcher, own)
    const findings = result.findings.map((found) => toFinding(found.path, found.match, 'deep'))
    emit('leak.check', {
      invocation,
      check: 'deep',
      durationMs: performance.now() - started,
      nodes: result.nodes,
      exhausted: false,
      findings: findings.length,
    })
    return findings
  }

  /** Drops allowed and already reported places, then reports by the mode. */
  private report(all: readonly LeakFinding[], cause: unknown): LeakFinding[] {
    const findings: LeakFinding[] = []
    for (const finding of all) {
      if (this.allowed(finding.path)) continue
      const key = `${finding.invocation}\u0000${finding.check}\u0000${finding.path}`
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
    this.options.onFinding?.(findings)
    if (this.options.mode === 'throw')
      throw new LeakFoundError(findings, cause === undefined ? undefined : { cause })
    if (this.options.mode === 'warn') this.options.logger.warn(describeFindings(findings), { findings })
    return findings
  }

  private allowed(path: string): boolean {
    return this.options.allowPaths.some((pattern) => {
      if (typeof pattern === 'string') return path.startsWith(pattern)
      pattern.lastIndex = 0
      return pattern.test(path)
    })
  }
}

function toFinding(path: string, match: Match, check: 'fast' | 'deep'): LeakFinding {
  return {
    path,
    kind: match.kind,
    match: match.how,
    value: match.value === undefined ? match.kind : redact(match.value),
    invocation: match.record.requestId,
    check,
  }
}
