import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { LeakFinding } from '@warmstart/leak-guard'
import { type Invocation, simulateLambda } from '@warmstart/testing'
import { beforeAll, describe, expect, it } from 'vitest'
import { bundleForTest } from '../../../examples/shared/test-bundle.js'
import { type Caller, httpApiRequest, newCaller, sqsBatch } from './corpus/events.js'
import { findingsIn } from './finding-logs.js'

// The corpus as deployed: each handler in corpus/deployed is its own function, bundled with esbuild
// as it would be uploaded, run under simulateLambda in one warm environment as caller A, then B,
// then C. Every invocation gets the production check (no heap snapshot) when it ends, and the deep
// check when the next one begins. The fixtures import the built packages.

const dir = (kind: string) => fileURLToPath(new URL(`corpus/deployed/${kind}/`, import.meta.url))
const handlers = (kind: string) => readdirSync(dir(kind)).filter((file) => file.endsWith('.mjs'))

/** The handlers that consume SQS; the rest serve an HTTP API. */
const SQS = new Set([
  'audit-array.mjs',
  'ring-buffer.mjs',
  'promise-cache.mjs',
  'body-copy.mjs',
  'event-kept.mjs',
  'receipt-handles.mjs',
  'processed-ids.mjs',
  'failed-messages.mjs',
  'lazy-client-field.mjs',
  'counters.mjs',
  'listener-static.mjs',
  'latencies.mjs',
  'batch-summary.mjs',
])

interface Run {
  readonly invocations: readonly Invocation[]
  readonly findings: readonly LeakFinding[][]
}

async function run(kind: string, file: string, minifyIdentifiers = false): Promise<Run> {
  const bundle = await bundleForTest(new URL(`corpus/deployed/${kind}/${file}`, import.meta.url), {
    minifyIdentifiers,
  })
  const lambda = simulateLambda({ handler: bundle.handler, timeout: '20s', maxEnvironments: 1 })
  try {
    const invocations: Invocation[] = []
    for (const caller of [newCaller(), newCaller(), newCaller()]) {
      const event = SQS.has(file) ? sqsBatch(caller as Caller) : httpApiRequest(caller)
      invocations.push(await lambda.invoke(event))
    }
    return { invocations, findings: invocations.map(findingsIn) }
  } finally {
    await lambda.stop()
    await bundle.remove()
  }
}

/** Runs every handler of a kind, two environments at a time (the machine has two cores). */
async function runAll(kind: string): Promise<Map<string, Run>> {
  const files = handlers(kind)
  const runs = new Map<string, Run>()
  let next = 0
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++] as string
      runs.set(file, await run(kind, file))
    }
  }
  await Promise.all([worker(), worker()])
  return runs
}

/**
 * Where each leak is, as the checks name it: the production check (`fast`: no heap snapshot) and
 * the deep check. `fast: undefined` is a leak only a heap snapshot sees: a listener or a timer added
 * per invocation holds the data in a closure reachable only through Node's own lists.
 */
const LEAKS: Record<string, { fast?: RegExp; deep: RegExp }> = {
  'audit-array.mjs': {
    fast: /^module \S+: audit\[\d+\]\.userId$/,
    deep: /: audit\[\d+\]\.userId → "usr_…"$/,
  },
  'auth-header.mjs': { fast: /^module \S+: downstreamAuth$/, deep: /: downstreamAuth → "Bear…"$/ },
  'body-copy.mjs': { fast: /^module \S+: lastPayload$/, deep: /: lastPayload → a string containing / },
  'class-static.mjs': {
    fast: /^module \S+: RequestContext\.user$/,
    deep: /: RequestContext\.user → "buye…"$/,
  },
  'client-headers.mjs': {
    fast: /^module \S+: billing\.defaults\.headers\["x-te…"\]$/,
    deep: /: billing\.defaults\.headers\["x-te…"\] → "tn_/,
  },
  'composite-key.mjs': { fast: /^module \S+: responses → key "dash…"$/, deep: /: responses → entry → / },
  'current-order.mjs': { fast: /^module \S+: currentOrderId$/, deep: /: currentOrderId → "ord_…"$/ },
  'event-kept.mjs': { fast: /^module \S+: lastEvent$/, deep: /: lastEvent$/ },
  'failed-messages.mjs': {
    fast: /^module \S+: failures\[\d+\]\.recipient$/,
    deep: /: failures\[\d+\]\.recipient → /,
  },
  'fixed-size-cache.mjs': { fast: /^module \S+: quotes → key "ord_…"$/, deep: /: quotes → entry → "ord_…"$/ },
  'global-user.mjs': {
    fast: /^globalThis\.currentUser\.id$/,
    deep: /^globalThis\.currentUser\.id → "usr_…"$/,
  },
  // Node 24's V8 keeps the formatted stack (which repeats the message) under a private symbol of the
  // error, and the snapshot may reach the error through it first: either path names the holder.
  'last-error.mjs': {
    fast: /^module \S+: lastError\.message$/,
    deep: /: lastError(\.message|\["<sym[^"]*"\]) → /,
  },
  'lazy-client-field.mjs': { fast: /^module \S+: client\.lastTenant$/, deep: /: client\.lastTenant → "tn_/ },
  'listener.mjs': { deep: /^closure in \S+: event$/ },
  'logger-keys.mjs': {
    fast: /^module \S+: logger\.persistentKeys\.userId$/,
    deep: /: logger\.persistentKeys\.userId → "usr_…"$/,
  },
  'memoised.mjs': {
    fast: /^closure permissionsOf\(\): results → key "usr_…"$/,
    deep: /^closure in \S+: results → entry → /,
  },
  'module-map.mjs': { fast: /^module \S+: profiles → key "usr_…"$/, deep: /: profiles → entry → "usr_…"$/ },
  'nested-state.mjs': {
    fast: /^module \S+: state\.session\.current\.user\.email$/,
    deep: /: state\.session\.current\.user\.email → /,
  },
  'path-value.mjs': {
    fast: /^module \S+: seenAccounts → element$/,
    deep: /: seenAccounts → entry → "acct…"$/,
  },
  'processed-ids.mjs': { fast: /^module \S+: processed → element$/, deep: /: processed → entry → / },
  'promise-cache.mjs': {
    fast: /^module \S+: lookups\.get\("lat…"\) → its settled value\.orderId$/,
    deep: /: lookups → entry\.orderId → "ord_…"$/,
  },
  'query-value.mjs': { fast: /^module \S+: lastSearch$/, deep: /: lastSearch → "red-…"$/ },
  'receipt-handles.mjs': {
    fast: /^module \S+: pendingDeletes\[\d+\]$/,
    deep: /: pendingDeletes\[\d+\] → "AQEB…"$/,
  },
  'ring-buffer.mjs': { fast: /^module \S+: recent\[\d+\]$/, deep: /: recent\[\d+\] → "usr_…"$/ },
  'tenant-lru-values.mjs': {
    fast: /^lru:tenant-carts\.get\("tn_.…"\)\.lastBuyer$/,
    deep: /: byTenant\[.*\]\.lastBuyer → "buye…"$/,
  },
  'tenant-promises.mjs': {
    fast: /^module \S+: settingsByTenant → key "tn_.…"$/,
    deep: /: settingsByTenant → entry → /,
  },
  'timer.mjs': { deep: /^closure in \S+: user → "usr_…"$/ },
  'tracker-closure.mjs': {
    fast: /^closure track\(\): lastUser$/,
    deep: /^closure in \S+: lastUser → "usr_…"$/,
  },
  'weakmap-held-key.mjs': {
    fast: /^module \S+: sessionData → its WeakMap value\.user$/,
    deep: /: sessions\[\d+\] → its WeakMap value\.user → "usr_…"$/,
  },
}

describe('the deployed corpus: esbuild bundles under simulateLambda, each as callers A, B and C', () => {
  const runs = new Map<string, Run>()
  beforeAll(async () => {
    for (const [file, result] of await runAll('leaky')) runs.set(`leaky/${file}`, result)
    for (const [file, result] of await runAll('clean')) runs.set(`clean/${file}`, result)
  }, 600_000)

  it('holds at least 25 leaky and 15 clean handlers, each with its expectation, every invocation served', () => {
    expect(handlers('leaky').length).toBeGreaterThanOrEqual(25)
    expect(handlers('clean').length).toBeGreaterThanOrEqual(15)
    expect(handlers('leaky').sort()).toEqual(Object.keys(LEAKS).sort())
    for (const [name, { invocations }] of runs) {
      expect(
        invocations.map((invocation) => invocation.ok),
        name,
      ).toEqual([true, true, true])
      expect(new Set(invocations.map((invocation) => invocation.pid)).size, name).toBe(1)
    }
  })

  it('the production check finds at least 90% of the leaky handlers, each time, with the holder named', () => {
    let found = 0
    for (const [file, expected] of Object.entries(LEAKS)) {
      const { invocations, findings } = runs.get(`leaky/${file}`) as Run
      // A and B: the first check, and a warm one whose shortcuts must not hide the new entry.
      const named = [0, 1].every((index) =>
        (findings[index] ?? []).some(
          (finding) =>
            finding.check === 'fast' &&
            finding.invocation === invocations[index]?.requestId &&
            expected.fast?.test(finding.path) === true,
        ),
      )
      expect(named, file).toBe(expected.fast !== undefined)
      if (named) found++
    }
    expect(found / Object.keys(LEAKS).length).toBeGreaterThanOrEqual(0.9)
  })

  it('the deep check finds every leaky handler, once each invocation has ended', () => {
    for (const [file, expected] of Object.entries(LEAKS)) {
      const { invocations, findings } = runs.get(`leaky/${file}`) as Run
      // A's deep check runs as B begins, B's as C begins.
      for (const index of [0, 1]) {
        const deep = (findings[index + 1] ?? []).filter(
          (finding) => finding.check === 'deep' && finding.invocation === invocations[index]?.requestId,
        )
        expect(
          deep.map((finding) => finding.path),
          file,
        ).toContainEqual(expect.stringMatching(expected.deep))
      }
    }
  })

  it('flags none of the clean handlers, by either check', () => {
    for (const file of handlers('clean')) {
      const { findings } = runs.get(`clean/${file}`) as Run
      expect(findings.flat(), file).toEqual([])
    }
  })

  it("names only the handler's own state: nothing of the runtime, Middy or warmstart", () => {
    for (const [name, { findings }] of runs)
      for (const finding of findings.flat())
        expect(finding.path, name).toMatch(
          /^(module|closure in) \S+\.mjs: |^closure \w+\(\): |^globalThis\.currentUser|^lru:tenant-carts/,
        )
  })
})

describe('minified bundles: a minified name is still a place', () => {
  it('names the minified variable of the bundle, by both checks', async () => {
    for (const file of ['module-map.mjs', 'current-order.mjs', 'client-headers.mjs']) {
      const { invocations, findings } = await run('leaky', file, true)
      expect(invocations.map((invocation) => invocation.ok)).toEqual([true, true, true])
      const [first, second] = findings as [LeakFinding[], LeakFinding[]]
      expect(
        first.map((finding) => [finding.check, finding.path]),
        file,
      ).toContainEqual(['fast', expect.stringMatching(new RegExp(`^module \\S*${file}: [\\w$]+\\b`))])
      expect(
        second.filter((finding) => finding.check === 'deep').map((finding) => finding.path),
        file,
      ).toContainEqual(expect.stringMatching(new RegExp(`^module \\S*${file}: [\\w$]+\\b`)))
    }
  }, 120_000)
})
