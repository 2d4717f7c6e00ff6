import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type Invocation,
  type SimulateLambdaOptions,
  type Simulation,
  simulateLambda,
} from '@warmstart/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

// The fixture runs in child processes and imports the built packages: build lifecycle and
// testing first (`npm test` does).
const handler = `${fileURLToPath(new URL('./fixtures/handler.mjs', import.meta.url))}#handler`

let scratch: string
const simulations: Simulation[] = []

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'lifecycle-lambda-'))
})

afterEach(async () => {
  await Promise.all(simulations.splice(0).map((s) => s.stop()))
  await rm(scratch, { recursive: true, force: true })
})

function simulate(options: Partial<SimulateLambdaOptions> = {}): Simulation {
  const simulation = simulateLambda({ handler, ...options })
  simulations.push(simulation)
  return simulation
}

/** The JSON lines lifecycle wrote during an invocation. */
function records(invocation: Invocation): Record<string, unknown>[] {
  return invocation.logs
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => String(record.message).startsWith('lifecycle.'))
}

describe('cold and warm under simulateLambda', () => {
  it('counts a cold start, then warm invocations, and measures init from process start', async () => {
    const lambda = simulate()
    const first = await lambda.invoke({ action: 'info' })
    const second = await lambda.invoke({ action: 'info' })
    const third = await lambda.invoke({ action: 'info' })
    expect(first).toMatchObject({ ok: true, coldStart: true })
    expect([second.environment, third.environment]).toEqual([first.environment, first.environment])
    expect(first.result).toMatchObject({ cold: true, kind: 'cold', count: 1 })
    expect(second.result).toMatchObject({ cold: false, kind: 'warm', count: 2 })
    expect(third.result).toMatchObject({ cold: false, kind: 'warm', count: 3 })

    // Init, measured from process start, covers at least the handler module's import.
    const { initDuration } = first.result as { initDuration: number }
    expect(initDuration).toBeGreaterThanOrEqual(Math.floor(first.initDurationMs ?? 0))
    expect((third.result as { initDuration: number }).initDuration).toBe(initDuration)

    const init = records(first).filter((r) => r.message === 'lifecycle.init')
    expect(init).toEqual([
      expect.objectContaining({
        initType: 'on-demand',
        startKind: 'cold',
        callerPaidInit: true,
        initDurationMs: initDuration,
      }),
    ])
    expect(records(first).find((r) => r.message === 'lifecycle.invoke')).toMatchObject({
      requestId: first.requestId,
      sequence: 1,
      coldStart: true,
      outcome: 'success',
    })
    expect(records(third).map((r) => [r.message, r.sequence, r.coldStart])).toEqual([
      ['lifecycle.invoke', 3, false],
    ])
  })

  it('names the first invocation after provisioned-concurrency init as such', async () => {
    const lambda = simulate({ initType: 'provisioned-concurrency' })
    const first = await lambda.invoke({ action: 'info' })
    const second = await lambda.invoke({ action: 'info' })
    expect(first.result).toMatchObject({ cold: true, kind: 'provisioned' })
    expect(second.result).toMatchObject({ cold: false, kind: 'warm' })
    expect(records(first).find((r) => r.message === 'lifecycle.init')).toMatchObject({
      initType: 'provisioned-concurrency',
      startKind: 'provisioned',
      callerPaidInit: false,
    })
  })
})

describe('waitUntil under simulateLambda', () => {
  it('returns the result only once the background work is done', async () => {
    const lambda = simulate()
    const done = join(scratch, 'done')
    const first = await lambda.invoke({ action: 'wait-until', ms: 100, done })
    expect(first.ok).toBe(true)
    expect(existsSync(done)).toBe(true)
    expect(first.logs).toContain(`late work finished: ${done}`)
    // Nothing is left over for the next invocation.
    const second = await lambda.invoke({ action: 'sleep', ms: 50 })
    expect(second.logs.some((line) => line.includes('late work finished'))).toBe(false)
    expect(records(second).find((r) => r.message === 'lifecycle.invoke')).toMatchObject({
      backgroundPending: 0,
    })
  })

  it('without waitUntil, the work is frozen half-way and finishes during the next invocation', async () => {
    const lambda = simulate()
    const done = join(scratch, 'done')
    const gate = join(scratch, 'gate')
    const first = await lambda.invoke({ action: 'fire-and-forget', gate, done })
    expect(first.ok).toBe(true)
    expect(lambda.environments()[0]?.state).toBe('frozen')
    // The work could finish now; it does not, because its process is frozen.
    await writeFile(gate, '')
    await lambda.wait(200)
    expect(existsSync(done)).toBe(false)
    // The next invocation thaws it: invocation 1's work runs inside invocation 2.
    const second = await lambda.invoke({ action: 'sleep', ms: 100 })
    expect(existsSync(done)).toBe(true)
    expect(second.logs).toContain(`late work finished: ${done}`)
  })

  it('reports work that outlives the invocation deadline, and still returns the result', async () => {
    const lambda = simulate({ timeout: '1s' })
    const done = join(scratch, 'never')
    const gate = join(scratch, 'never-created')
    const invocation = await lambda.invoke({ action: 'wait-until', gate, done })
    expect(invocation).toMatchObject({ ok: true, timedOut: false })
    expect(records(invocation).find((r) => r.message === 'lifecycle.wait-timeout')).toMatchObject({
      level: 'warn',
      requestId: invocation.requestId,
      pending: 1,
      names: ['late-work'],
    })
  })

  it('under Managed Instances, each invocation waits for its own work only', async () => {
    const lambda = simulate({ mode: 'managed-instances', maxConcurrency: 2 })
    const quickDone = join(scratch, 'quick')
    const slowDone = join(scratch, 'slow')
    const gate = join(scratch, 'gate')
    const slow = lambda.invoke({ action: 'wait-until', gate, done: slowDone })
    const quick = await lambda.invoke({ action: 'wait-until', ms: 10, done: quickDone })
    // The quick invocation came back while the other one's work was still waiting for its gate.
    expect(quick.ok).toBe(true)
    expect(existsSync(quickDone)).toBe(true)
    expect(existsSync(slowDone)).toBe(false)
    await writeFile(gate, '')
    const slowResult = await slow
    expect(slowResult.ok).toBe(true)
    expect(existsSync(slowDone)).toBe(true)
    expect(quick.pid).toBe(slowResult.pid)
  })
})

describe('onShutdown under simulateLambda', () => {
  it('runs every handler on SIGTERM within the deadline, then exits with code 0', async () => {
    const lambda = simulate({ env: { SHUTDOWN_DIR: scratch } })
    await lambda.invoke({ action: 'info' })
    expect(await lambda.shutdown(undefined, { graceMs: 2_000 })).toEqual([{ exitCode: 0, signal: null }])
    expect(readFileSync(join(scratch, 'async-handler'), 'utf8')).toBe('closed')
    expect(readFileSync(join(scratch, 'sync-handler'), 'utf8')).toBe('closed')
  })

  it('exits with code 0 at the deadline when a handler hangs, before Lambda would SIGKILL', async () => {
    const lambda = simulate({
      env: { SHUTDOWN_DIR: scratch, SHUTDOWN_HANG: '1', SHUTDOWN_DEADLINE: '100ms' },
    })
    await lambda.invoke({ action: 'info' })
    expect(await lambda.shutdown(undefined, { graceMs: 2_000 })).toEqual([{ exitCode: 0, signal: null }])
    expect(existsSync(join(scratch, 'sync-handler'))).toBe(true)
    expect(existsSync(join(scratch, 'async-handler'))).toBe(true)
  })

  it("leaves Node's default SIGTERM exit in place when every handler was unregistered", async () => {
    const lambda = simulate({ env: { SHUTDOWN_UNREGISTER: '1' } })
    await lambda.invoke({ action: 'info' })
    expect(await lambda.shutdown()).toEqual([{ exitCode: null, signal: 'SIGTERM' }])
  })
})
