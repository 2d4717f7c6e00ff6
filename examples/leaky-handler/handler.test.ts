import { type Invocation, type Simulation, simulateLambda } from '@warmstart/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpApiEvent } from '../shared/api-gateway-event.mjs'
import { bundleForTest, type TestBundle } from '../shared/test-bundle.js'

interface Finding {
  path: string
  kind: string
  match: string
  value: string
  invocation: string
  check: 'fast' | 'deep'
}

let bundle: TestBundle
let lambda: Simulation

beforeAll(async () => {
  // Identifiers kept, so that the deep check names the module variables (`profiles`, `lastToken`).
  bundle = await bundleForTest(new URL('./handler.ts', import.meta.url), { minifyIdentifiers: false })
  lambda = simulateLambda({
    handler: bundle.handler,
    env: { LEAK_GUARD_DEEP: '1', LEAK_GUARD_TIME_BUDGET_MS: '10000' },
    timeout: '10s',
  })
})

afterAll(async () => {
  await lambda?.stop()
  await bundle?.remove()
})

/** The findings the guard logged (one JSON line per checked invocation that left something). */
function findingsIn(logs: readonly string[]): Finding[] {
  return logs
    .filter((line) => line.startsWith('{') && line.includes('"findings"'))
    .flatMap((line) => (JSON.parse(line) as { findings: Finding[] }).findings)
}

describe('leaky-handler, bundled, under simulateLambda', () => {
  const subjects = ['user-83731a', 'user-19d2b4', 'user-5f1d7a']
  const invocations: Invocation[] = []

  beforeAll(async () => {
    for (const subject of subjects)
      invocations.push(await lambda.invoke(httpApiEvent({ method: 'GET', path: '/me', subject })))
  })

  it('reports the LRU and the module variables right after the invocation that filled them (fast check)', () => {
    const [first] = invocations as [Invocation]
    expect(first.ok).toBe(true)
    const module = (path: string) => expect.stringMatching(new RegExp(`^module .*handler\\.mjs: ${path}$`))
    // In no particular order: which scope a variable is first read through depends on what the
    // check has learned of the module's functions by then.
    const findings = findingsIn(first.logs)
    expect(findings).toHaveLength(6)
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'lru:responses → key "user…"', kind: 'user id', check: 'fast' }),
        expect.objectContaining({ path: 'lru:responses.get("user…")', kind: 'user id', check: 'fast' }),
        expect.objectContaining({ path: module('lastToken'), kind: 'bearer token', check: 'fast' }),
        expect.objectContaining({ path: module('profiles → key "user…"'), kind: 'user id', check: 'fast' }),
        expect.objectContaining({
          path: module('profiles\\.get\\("user…"\\)\\.userId'),
          kind: 'user id',
          check: 'fast',
        }),
        expect.objectContaining({
          path: module('profiles\\.get\\("user…"\\)\\.greeting'),
          kind: 'user id',
          check: 'fast',
        }),
      ]),
    )
  })

  it('reports the module Map and the token once the invocation has ended, with the next one (deep check), in the same warm environment', () => {
    const [first, second] = invocations as [Invocation, Invocation]
    expect(second.coldStart).toBe(false)
    const deep = findingsIn(second.logs).filter((finding) => finding.check === 'deep')
    expect(deep).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: expect.stringMatching(/handler\.mjs: profiles → /),
          kind: 'user id',
          invocation: first.requestId,
        }),
        expect.objectContaining({
          path: expect.stringMatching(/handler\.mjs: lastToken → /),
          kind: 'authorization header',
          invocation: first.requestId,
        }),
      ]),
    )
  })

  it("reports only the handler's own state: not the runtime's in-flight records nor the response on its way out", () => {
    const all = invocations.flatMap((invocation) => findingsIn(invocation.logs))
    for (const finding of all) expect(finding.path).toMatch(/^lru:responses|handler\.mjs: /)
  })

  it('never logs a user id or a token in full', () => {
    const logged = invocations.flatMap((invocation) => invocation.logs).join('\n')
    for (const subject of subjects) expect(logged).not.toContain(subject)
    expect(logged).not.toContain('Bearer ey')
  })
})
