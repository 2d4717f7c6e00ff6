// The cross-package scenarios under the real Lambda runtime interface client (aws-lambda-ric),
// with the packages' own fixtures. Skipped, with the reason in the title, where the client cannot
// run (Node < 22 or the package absent): CI's Node 24 run exercises it. The packages' full
// simulateLambda suites also run under it with WARMSTART_LAMBDA_RUNTIME=ric (docs/testing-lambda.md).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LeakFinding } from '@warmstart/leak-guard'
import {
  type Invocation,
  ricSupport,
  type SimulateLambdaOptions,
  type Simulation,
  simulateLambda,
  startPostgres,
  type TestPostgres,
} from '@warmstart/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { apiRequest } from '../packages/leak-guard/test/corpus/events.js'

const ric = ricSupport()
const title = ric.available ? 'under aws-lambda-ric' : `under aws-lambda-ric (skipped: ${ric.reason})`
const fixture = (pkg: string, name: string) =>
  `${fileURLToPath(new URL(`../packages/${pkg}/test/fixtures/${name}`, import.meta.url))}#handler`

const simulations: Simulation[] = []
function simulate(options: SimulateLambdaOptions): Simulation {
  const simulation = simulateLambda({ ...options, runtime: 'ric' })
  simulations.push(simulation)
  return simulation
}
afterEach(async () => {
  await Promise.all(simulations.splice(0).map((simulation) => simulation.stop()))
})

describe.skipIf(!ric.available)(title, () => {
  describe('pg', () => {
    let server: TestPostgres
    beforeAll(async () => {
      server = await startPostgres()
    })
    afterAll(async () => {
      await server?.stop()
    })

    it('survives the server killing the connection while the environment is frozen, 20 times in 20', async () => {
      const config = { ...server.config, application_name: 'ric-freeze-kill' }
      const lambda = simulate({
        handler: fixture('pg', 'handler.mjs'),
        env: { PG_CONFIG: JSON.stringify(config) },
      })
      const first = await lambda.invoke({})
      expect(first.ok, first.error?.message).toBe(true)
      let previous = (first.result as { pid: number }).pid
      let failed = 0
      for (let cycle = 0; cycle < 20; cycle++) {
        expect(await server.terminateBackends({ applicationName: 'ric-freeze-kill' })).toBe(1)
        await lambda.wait(10)
        const invocation = await lambda.invoke({})
        if (!invocation.ok) failed += 1
        const { pid, events } = invocation.result as { pid: number; events: string[] }
        expect(pid).not.toBe(previous)
        // Noticed from the socket's events at thaw, before the handler runs: no validation query.
        expect(events).toEqual(expect.arrayContaining(['pg.dead', 'pg.reconnect', 'pg.connect']))
        previous = pid
      }
      expect(failed).toBe(0)
      expect(lambda.environments()).toHaveLength(1)
    })
  })

  describe('leak guard', () => {
    const PREFIX = 'leak-finding '
    const findingsIn = (invocation: Invocation): LeakFinding[] =>
      invocation.logs
        .filter((line) => line.startsWith(PREFIX))
        .map((line) => JSON.parse(line.slice(PREFIX.length)) as LeakFinding)
    let users = 0
    const request = (path: string) => {
      const { event } = apiRequest()
      event.rawPath = path
      event.requestContext.http.sourceIp = `198.51.100.${++users}`
      return event
    }

    it('finds what a handler leaves (fast and deep checks) and nothing of the runtime itself', async () => {
      const lambda = simulate({ handler: fixture('leak-guard', 'corpus-handler.mjs'), maxEnvironments: 1 })
      const clean = ['/db', '/config', '/secrets', '/counters', '/flags', '/status', '/in-event']
      const cleanRuns: Invocation[] = []
      for (let round = 0; round < 2; round++) {
        for (const path of clean) {
          const invocation = await lambda.invoke(request(path))
          expect(invocation.ok, `${path}: ${invocation.error?.message}`).toBe(true)
          cleanRuns.push(invocation)
        }
      }
      // The runtime keeps the invocation's request id, trace id, context and event in its own
      // state (the invoke store, the X-Ray variable): none of it is reported.
      for (const invocation of cleanRuns) expect(findingsIn(invocation)).toEqual([])

      const leaky = await lambda.invoke(request('/sessions'))
      expect(findingsIn(leaky)).toContainEqual(
        expect.objectContaining({
          invocation: leaky.requestId,
          check: 'fast',
          path: expect.stringMatching(/^globalThis\.sessions → key "user…"$/),
        }),
      )
      const cached = await lambda.invoke(request('/cached-user'))
      expect(cached.ok).toBe(true)
      const deep = await lambda.invoke({ rawPath: '/deep-check' })
      expect(deep.ok, deep.error?.message).toBe(true)
      const deepFindings = deep.result as LeakFinding[]
      expect(
        deepFindings.filter((finding) => finding.invocation === cached.requestId).map((f) => f.path),
      ).toContainEqual(
        expect.stringMatching(/^module .*corpus-handler\.mjs: cachedUserData\.(id|email) → "(user|pers)…"$/),
      )
      const cleanIds = new Set(cleanRuns.map((invocation) => invocation.requestId))
      expect(deepFindings.filter((finding) => cleanIds.has(finding.invocation))).toEqual([])
      expect(deepFindings.filter((finding) => /aws-lambda-ric|invoke-store/.test(finding.path))).toEqual([])
    })
  })

  describe('lifecycle', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'ric-lifecycle-'))
    afterAll(() => rmSync(scratch, { recursive: true, force: true }))
    const handler = fixture('lifecycle', 'handler.mjs')

    it('counts a cold start then warm ones, finishes waitUntil work before the freeze, and runs shutdown hooks', async () => {
      const lambda = simulate({ handler, env: { SHUTDOWN_DIR: scratch } })
      const first = await lambda.invoke({ action: 'info' })
      const second = await lambda.invoke({ action: 'info' })
      expect(first.result).toMatchObject({ cold: true, kind: 'cold', count: 1 })
      expect(second.result).toMatchObject({ cold: false, kind: 'warm', count: 2 })

      const done = join(scratch, 'late-work')
      const waited = await lambda.invoke({ action: 'wait-until', ms: 50, done })
      expect(waited.ok, waited.error?.message).toBe(true)
      // Awaited inside the invocation: the file is there when the invocation has ended.
      expect(readFileSync(done, 'utf8')).toBe(String(first.pid))
      expect(waited.logs).toContain(`late work finished: ${done}`)

      expect(await lambda.shutdown(undefined, { graceMs: 2_000 })).toEqual([{ exitCode: 0, signal: null }])
      expect(existsSync(join(scratch, 'async-handler'))).toBe(true)
      expect(existsSync(join(scratch, 'sync-handler'))).toBe(true)
    })
  })
})
