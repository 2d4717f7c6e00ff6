import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { simulateLambda } from '../src/index.js'
import { fixture, isAlive, simulate } from './lambda-helpers.js'

const actions = `${fixture('actions.mjs')}#handler`
const shutdownHandler = `${fixture('shutdown.mjs')}#handler`
const scratch = mkdtempSync(join(tmpdir(), 'warmstart-lambda-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('simulateLambda: reap', () => {
  it('kills idle environments without warning: the next invocation is cold', async () => {
    const lambda = simulate({ handler: actions })
    const [first, second] = await lambda.burst([{ action: 'count' }, { action: 'count' }])
    await lambda.reap('env-1')
    expect(isAlive(first!.pid)).toBe(false)
    expect(lambda.environments().map((environment) => environment.id)).toEqual(['env-2'])
    await lambda.reap()
    expect(isAlive(second!.pid)).toBe(false)
    const next = await lambda.invoke({ action: 'count' })
    expect(next).toMatchObject({ coldStart: true, environment: 'env-3', result: { count: 1 } })
  })

  it('refuses to reap an unknown or busy environment', async () => {
    const lambda = simulate({ handler: actions })
    const pending = lambda.invoke({ action: 'sleep', ms: 100 })
    await expect(lambda.reap('env-1')).rejects.toMatchObject({ code: 'ERR_ENVIRONMENT_BUSY' })
    await expect(lambda.reap('env-7')).rejects.toMatchObject({ code: 'ERR_UNKNOWN_ENVIRONMENT' })
    await lambda.reap()
    expect((await pending).ok).toBe(true)
  })
})

describe('simulateLambda: shutdown', () => {
  it('delivers SIGTERM to a thawed process, which exits within graceMs', async () => {
    const marker = join(scratch, 'shutdown-1')
    const lambda = simulate({ handler: shutdownHandler, env: { SHUTDOWN_MARKER: marker } })
    const { pid } = await lambda.invoke({})
    expect(lambda.environments()[0]!.state).toBe('frozen')
    expect(await lambda.shutdown()).toEqual([{ exitCode: 0, signal: null }])
    expect(readFileSync(marker, 'utf8')).toBe(`shutdown ${pid}`)
    expect(lambda.environments()).toEqual([])
  })

  it('SIGKILLs a process still there after graceMs', async () => {
    const marker = join(scratch, 'shutdown-2')
    const lambda = simulate({
      handler: shutdownHandler,
      env: { SHUTDOWN_MARKER: marker, IGNORE_SIGTERM: '1' },
    })
    const { pid } = await lambda.invoke({})
    expect(await lambda.shutdown('env-1', { graceMs: 100 })).toEqual([{ exitCode: null, signal: 'SIGKILL' }])
    expect(existsSync(marker)).toBe(false)
    expect(isAlive(pid)).toBe(false)
  })

  it('ends a process without a SIGTERM listener by the signal itself', async () => {
    const lambda = simulate({ handler: actions })
    await lambda.invoke({ action: 'count' })
    expect(await lambda.shutdown()).toEqual([{ exitCode: null, signal: 'SIGTERM' }])
  })
})

describe('simulateLambda: stop', () => {
  it('kills every environment, frozen ones included, and rejects what is in flight or queued', async () => {
    const lambda = simulateLambda({ handler: actions })
    const frozen = await lambda.burst([{ action: 'count' }, { action: 'count' }])
    const inFlight = lambda.invoke({ action: 'sleep', ms: 5_000 }, { environment: 'env-1' })
    const queued = [1, 2].map(() => lambda.invoke({ action: 'count' }, { environment: 'env-1' }))
    await expect
      .poll(() => lambda.environments().map((environment) => environment.state))
      .toEqual(['busy', 'frozen'])
    const outcomes = Promise.allSettled([inFlight, ...queued])
    const stopped = lambda.stop()
    expect(lambda.stop()).toBe(stopped)
    await stopped
    const codes = (await outcomes).map((outcome) => outcome.status === 'rejected' && outcome.reason.code)
    expect(codes).toEqual(['ERR_SIMULATION_STOPPED', 'ERR_SIMULATION_STOPPED', 'ERR_SIMULATION_STOPPED'])
    for (const { pid } of frozen) expect(isAlive(pid)).toBe(false)
    expect(lambda.environments()).toEqual([])
    await expect(lambda.invoke({ action: 'count' })).rejects.toMatchObject({ code: 'ERR_SIMULATION_STOPPED' })
  })
})
