import { type Simulation, simulateLambda } from '@warmstart/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpApiEvent } from '../shared/api-gateway-event.mjs'
import { bundleForTest, type TestBundle } from '../shared/test-bundle.js'

interface Finding {
  path: string
  kind: string
  match: string
  value: string
  check: 'fast' | 'deep'
}

let bundle: TestBundle
let lambda: Simulation

beforeAll(async () => {
  // Identifiers kept, so that the deep check names the module variables (`profiles`, `lastToken`).
  bundle = await bundleForTest(new URL('./handler.ts', import.meta.url), { minifyIdentifiers: false })
  lambda = simulateLambda({ handler: bundle.handler, env: { LEAK_GUARD_DEEP: '1' }, timeout: '10s' })
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
  it("reports each place that keeps a caller's data: the LRU (fast check), the module Map and the token (deep check)", async () => {
    const first = await lambda.invoke(httpApiEvent({ method: 'GET', path: '/me', subject: 'user-83731a' }))
    expect(first.ok).toBe(true)
    const findings = findingsIn(first.logs)
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'lru:responses → key "user…"', kind: 'user id', check: 'fast' }),
        expect.objectContaining({
          path: expect.stringMatching(/handler\.mjs: profiles → /),
          kind: 'user id',
          check: 'deep',
        }),
        expect.objectContaining({
          path: expect.stringMatching(/handler\.mjs: lastToken → /),
          kind: 'authorization header',
          check: 'deep',
        }),
      ]),
    )
    // Values are redacted: neither the user id nor the token is in what the guard logged.
    const logged = first.logs.join('\n')
    expect(logged).not.toContain('Bearer ey')
  })

  it("finds the second caller's data too, in the same warm environment", async () => {
    const second = await lambda.invoke(httpApiEvent({ method: 'GET', path: '/me', subject: 'user-19d2b4' }))
    expect(second.coldStart).toBe(false)
    expect(findingsIn(second.logs).map((finding) => finding.check)).toEqual(
      expect.arrayContaining(['fast', 'deep']),
    )
  })
})
