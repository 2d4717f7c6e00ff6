import { WarmstartError } from '@warmstart/core'
import type { MatchHow, ValueKind } from './kinds.js'

/** One place where a request's data outlived its invocation. */
export interface LeakFinding {
  /** Where: `globalThis.sessions → key "u-12…"`, `lru:users.get("a1") → …`, `module handler.mjs: cachedUser.id → "u-12…"`. */
  readonly path: string
  /** What kind of request value was found there. */
  readonly kind: ValueKind
  /** `identity`: the request's own object; `exact`: a value equal to a request value; `substring`: one containing it (or a piece of a secret). */
  readonly match: MatchHow
  /** The request value, redacted to its first characters; `event object` / `context object` for an identity match. */
  readonly value: string
  /** The request id of the invocation that left it. */
  readonly invocation: string
  /** Which check found it. */
  readonly check: 'fast' | 'deep'
}

/**
 * The guard's own output (findings, LeakFoundError) carries this non-enumerable mark: it names the
 * invocation by its request id in full, and whoever keeps it (a test collecting findings) does not
 * make a later deep check report that id.
 */
export const OUTPUT_MARK = '@warmstart/leak-guard:output'
const OUTPUT = Symbol.for(OUTPUT_MARK)

/** Marks an object as the guard's output (see OUTPUT_MARK). */
export function markOutput<T extends object>(output: T): T {
  Object.defineProperty(output, OUTPUT, { value: true })
  return output
}

/** Thrown in `throw` mode: the invocation left request data behind. The message lists where (values redacted). */
export class LeakFoundError extends WarmstartError {
  readonly findings: readonly LeakFinding[]

  constructor(findings: readonly LeakFinding[], options?: { cause?: unknown }) {
    super('ERR_LEAK_FOUND', describeFindings(findings), options)
    this.name = 'LeakFoundError'
    this.findings = findings
    markOutput(this)
  }
}

/** A finding as one line: where, and what. */
export function describeFinding(finding: LeakFinding): string {
  return `${finding.path} (${finding.kind}, ${finding.match} match, ${finding.check} check)`
}

export function describeFindings(findings: readonly LeakFinding[]): string {
  const lines = findings.map((finding) => `  - ${describeFinding(finding)}`)
  return `${heading(findings)}:\n${lines.join('\n')}`
}

/** One line for a structured logger, which gets the findings as details. */
export function summarizeFindings(findings: readonly LeakFinding[]): string {
  return `${heading(findings)} (${findings.length} ${findings.length === 1 ? 'place' : 'places'})`
}

function heading(findings: readonly LeakFinding[]): string {
  const invocations = [...new Set(findings.map((finding) => finding.invocation))].join(', ')
  return `leak-guard: request data outlived invocation ${invocations}`
}
