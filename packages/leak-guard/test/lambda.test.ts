import { fileURLToPath } from 'node:url'
import type { LeakFinding } from '@warmstart/leak-guard'
import { type Invocation, type Simulation, simulateLambda } from '@warmstart/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiRequest, body } from './corpus/events.js'
import { findingsIn } from './finding-logs.js'

// The fixtures import the built packages: `pnpm --filter @warmstart/core --filter @warmstart/leak-guard
// --filter @warmstart/testing build` first.
const fixture = (name: string) => `${fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))}#handler`

let users = 0
/** A request from a new user, from an address of their own (a value two callers share is attributed to the later one: see the docs). */
function request(path: string) {
  const { event } = apiRequest()
  event.rawPath = path
  event.requestContext.http.sourceIp = `198.51.100.${++users}`
  return event
}

const fastLeaks: Record<string, { path: RegExp; kind: string; match: string }> = {
  '/sessions': { path: /^globalThis\.sessions → key "user…"$/, kind: 'user id', match: 'exact' },
  '/recent-events': { path: /^globalThis\.recentEvents\[\d+\]$/, kind: 'event object', match: 'identity' },
  '/current-user': { path: /^globalThis\.currentUser\.id$/, kind: 'user id', match: 'exact' },
  '/users-lru': { path: /^lru:users → key "user…"$/, kind: 'user id', match: 'exact' },
  '/api-client': {
    path: /^globalThis\.apiClient\.cache\.get\("la…"\)\.tenant$/,
    kind: 'tenant id',
    match: 'exact',
  },
  '/audit-json': { path: /^globalThis\.auditLog$/, kind: expect.any(String), match: 'substring' },
  // The tail of the token is a piece of the authorization header too, which is looked for first.
  '/token-tail': {
    path: /^globalThis\.tokenTails\[\d+\]$/,
    kind: 'authorization header',
    match: 'substring',
  },
}
const deepLeaks: Record<string, RegExp> = {
  '/cached-user': /^module .*corpus-handler\.mjs: cachedUserData\.(id|email) → "(user|pers)…"$/,
  '/current-token': /^module .*corpus-handler\.mjs: currentToken → /,
  '/timer-closure': /^closure in .*corpus-handler\.mjs: user → "user…"$/,
}
const cleanRoutes = [
  '/db',
  '/config',
  '/secrets',
  '/counters',
  '/flags',
  '/products',
  '/email-check',
  '/in-event',
  '/status',
]
const WARM_ROUNDS = 2

describe('the corpus as real handlers under simulateLambda, across warm invocations', () => {
  let lambda: Simulation
  beforeAll(() => {
    lambda = simulateLambda({ handler: fixture('corpus-handler.mjs'), maxEnvironments: 1 })
  })
  afterAll(async () => {
    await lambda?.stop()
  })

  it('reports every leak with its path and the invocation that left it, and nothing of a clean route', async () => {
    // Every route runs once per round, each time for a new user, in one frozen-and-thawed environment.
    const byRoute = new Map<string, Invocation[]>()
    for (let round = 0; round < WARM_ROUNDS; round++) {
      for (const path of [...Object.keys(fastLeaks), ...Object.keys(deepLeaks), ...cleanRoutes]) {
        const invocation = await lambda.invoke(request(path))
        expect(invocation.ok, `${path}: ${invocation.error?.message}`).toBe(true)
        byRoute.set(path, [...(byRoute.get(path) ?? []), invocation])
      }
    }
    const all = [...byRoute.values()].flat()
    expect(new Set(all.map((invocation) => invocation.pid)).size).toBe(1)
    expect(all.filter((invocation) => invocation.coldStart)).toHaveLength(1)

    for (const [path, expected] of Object.entries(fastLeaks)) {
      for (const invocation of byRoute.get(path) ?? []) {
        const findings = findingsIn(invocation)
        expect(findings.length, path).toBeGreaterThan(0)
        for (const finding of findings) {
          expect(finding, path).toMatchObject({ invocation: invocation.requestId, check: 'fast' })
        }
        expect(findings, path).toContainEqual(
          expect.objectContaining({ path: expect.stringMatching(expected.path), kind: expected.kind }),
        )
        expect(findings.some((finding) => finding.match === expected.match)).toBe(true)
      }
    }
    // The fast check reads the handler's module scope (found from _HANDLER): module variables are
    // named there, without a heap snapshot. A timer's closure is the deep check's only.
    for (const path of ['/cached-user', '/current-token']) {
      for (const invocation of byRoute.get(path) ?? [])
        expect(
          findingsIn(invocation).map((f) => [f.path, f.invocation, f.check]),
          path,
        ).toContainEqual([
          expect.stringMatching(/^module .*corpus-handler\.mjs: (cachedUserData|currentToken)/),
          invocation.requestId,
          'fast',
        ])
    }
    for (const path of ['/timer-closure', ...cleanRoutes]) {
      for (const invocation of byRoute.get(path) ?? []) expect(findingsIn(invocation), path).toEqual([])
    }

    const deep = await lambda.invoke({ rawPath: '/deep-check' })
    expect(deep.ok, deep.error?.message).toBe(true)
    const deepFindings = deep.result as LeakFinding[]
    expect(findingsIn(deep)).toEqual(deepFindings)
    for (const [path, pattern] of Object.entries(deepLeaks)) {
      const invocations = byRoute.get(path) ?? []
      // A module variable keeps the last caller's data; a timer per invocation keeps each caller's.
      const leftIt = path === '/timer-closure' ? invocations : invocations.slice(-1)
      for (const invocation of leftIt) {
        expect(
          deepFindings.filter((finding) => finding.invocation === invocation.requestId).map((f) => f.path),
          path,
        ).toContainEqual(expect.stringMatching(pattern))
      }
    }
    const clean = new Set(cleanRoutes.flatMap((path) => byRoute.get(path) ?? []).map((i) => i.requestId))
    expect(deepFindings.filter((finding) => clean.has(finding.invocation))).toEqual([])
    for (const finding of deepFindings) expect(finding.check).toBe('deep')
  })
})

describe('under Managed Instances: requests in flight together in one process', () => {
  it('attributes each leak to the request that left it, and never reports data of a request in flight', async () => {
    const lambda = simulateLambda({
      handler: fixture('managed-handler.mjs'),
      mode: 'managed-instances',
      maxConcurrency: 4,
      timeout: '10s',
    })
    try {
      // One company: every request carries the same tenant id, which the holder keeps in flight.
      const tenantId = `tenant-${users}-shared`
      const roles = [
        { role: 'hold' },
        { role: 'leak', slot: 'slot1' },
        { role: 'clean' },
        { role: 'leak', slot: 'slot2' },
      ]
      const events = roles.map((role) => {
        const event = request('/work')
        event.body = JSON.stringify({
          ...body(event),
          ...role,
          tenantId,
          batch: 'batch-1',
          size: roles.length,
        })
        return event
      })
      const [hold, leak1, clean, leak2] = (await lambda.burst(events)) as [
        Invocation,
        Invocation,
        Invocation,
        Invocation,
      ]
      expect(new Set([hold, leak1, clean, leak2].map((invocation) => invocation.pid)).size).toBe(1)
      expect(hold.error).toBeUndefined()
      expect(clean.error).toBeUndefined()
      for (const [invocation, slot] of [
        [leak1, 'slot1'],
        [leak2, 'slot2'],
      ] as const) {
        expect(invocation.ok).toBe(false)
        expect(invocation.error).toEqual({
          name: 'LeakFoundError',
          // The real runtime's error response has no code (docs/testing-lambda.md).
          ...(process.env.WARMSTART_LAMBDA_RUNTIME === 'ric' ? {} : { code: 'ERR_LEAK_FOUND' }),
          message: `leak-guard: request data outlived invocation ${invocation.requestId}:\n  - globalThis.leftBehind.get("${slot.slice(0, 2)}…") (user id, exact match, fast check)`,
        })
      }
    } finally {
      await lambda.stop()
    }
  })
})

describe.each(['classic', 'managed-instances'] as const)(
  'the deep check after every invocation under simulateLambda (%s)',
  (mode) => {
    let lambda: Simulation
    beforeAll(() => {
      lambda = simulateLambda({
        handler: fixture('deep-handler.mjs'),
        mode,
        maxEnvironments: 1,
        timeout: '10s',
      })
    })
    afterAll(async () => {
      await lambda?.stop()
    })

    it("judges each invocation once it has ended: finds the classic leaks, and nothing of the runtime's in-flight state or the response", async () => {
      const expected: Record<string, RegExp> = {
        '/module': /^module .*deep-handler\.mjs: lastUser\.(id|email) → "(user|pers)…"$/,
        '/token': /^module .*deep-handler\.mjs: lastToken → "Bear…"$/,
        '/timer': /^closure in .*deep-handler\.mjs: userId → "user…"$/,
        '/event': /^module .*deep-handler\.mjs: keptEvents\[0\]$/,
      }
      const routes = [...Object.keys(expected), '/clean', '/clean']
      const invocations: Invocation[] = []
      for (const path of routes) {
        const invocation = await lambda.invoke(request(path))
        expect(invocation.ok, `${path}: ${invocation.error?.message}`).toBe(true)
        invocations.push(invocation)
      }
      const all = invocations.flatMap((invocation) => findingsIn(invocation))
      for (const [index, invocation] of invocations.entries()) {
        // An invocation's deep findings come with the next one; none is about a request still in flight.
        for (const finding of findingsIn(invocation).filter((f) => f.check === 'deep'))
          expect(finding.invocation).toBe(invocations[index - 1]?.requestId)
      }
      for (const [index, path] of routes.entries()) {
        const own = all.filter((f) => f.invocation === invocations[index]?.requestId)
        if (path === '/clean') expect(own, path).toEqual([])
        else
          expect(
            own.map((f) => f.path),
            path,
          ).toContainEqual(expect.stringMatching(expected[path] as RegExp))
      }
      // Every place is the handler's: not the runtime's in-flight records, its invoke store or the response.
      for (const finding of all)
        expect(finding.path).toMatch(/^module .*deep-handler\.mjs: |^closure in .*deep-handler\.mjs: /)
      const logs = invocations.flatMap((invocation) => invocation.logs).join('\n')
      for (const invocation of invocations) {
        const { userId, email } = JSON.parse(
          (invocation.result as { body: string }).body.replace('Hello ', ''),
        ) as {
          greeting: string
          email: string
          userId?: string
        }
        expect(logs).not.toContain(email)
        if (userId !== undefined) expect(logs).not.toContain(userId)
      }
    })
  },
)
