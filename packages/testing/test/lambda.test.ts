import { createServer, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { fixture, processState, simulate } from './lambda-helpers.js'

const actions = `${fixture('actions.mjs')}#handler`

describe('simulateLambda: warm and cold starts', () => {
  it('keeps module state across warm invocations of one environment', async () => {
    const lambda = simulate({ handler: actions })
    const first = await lambda.invoke({ action: 'count' })
    const second = await lambda.invoke({ action: 'count' })
    const third = await lambda.invoke({ action: 'count' })
    expect([first.result, second.result, third.result]).toEqual([
      { count: 1, pid: first.pid },
      { count: 2, pid: first.pid },
      { count: 3, pid: first.pid },
    ])
    expect(first).toMatchObject({ environment: 'env-1', coldStart: true, ok: true, timedOut: false })
    expect(first.initDurationMs).toBeGreaterThan(0)
    expect(second).toMatchObject({ environment: 'env-1', coldStart: false, ok: true })
    expect(second.initDurationMs).toBeUndefined()
    expect(second.durationMs).toBeGreaterThanOrEqual(0)
    expect(first.requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(second.requestId).not.toBe(first.requestId)
    expect(lambda.environments()).toEqual([{ id: 'env-1', pid: first.pid, state: 'frozen', invocations: 3 }])
  })

  it('starts one environment per concurrent invocation in a burst, each with its own module state', async () => {
    const lambda = simulate({ handler: actions })
    const burst = await lambda.burst([{ action: 'count' }, { action: 'count' }, { action: 'count' }])
    expect(burst.map((invocation) => invocation.environment)).toEqual(['env-1', 'env-2', 'env-3'])
    expect(new Set(burst.map((invocation) => invocation.pid)).size).toBe(3)
    expect(burst.every((invocation) => invocation.coldStart)).toBe(true)
    expect(burst.map((invocation) => (invocation.result as { count: number }).count)).toEqual([1, 1, 1])
    // The next one goes warm to the most recently used environment.
    const next = await lambda.invoke({ action: 'count' })
    expect(next.coldStart).toBe(false)
    expect(next.environment).toBe('env-3')
    expect(next.result).toEqual({ count: 2, pid: burst[2]!.pid })
  })

  it('queues invocations beyond maxEnvironments until an environment is free', async () => {
    const lambda = simulate({ handler: actions, maxEnvironments: 1 })
    const burst = await lambda.burst([{ action: 'count' }, { action: 'count' }])
    expect(burst.map((invocation) => invocation.result)).toEqual([
      { count: 1, pid: burst[0]!.pid },
      { count: 2, pid: burst[0]!.pid },
    ])
    expect(burst.map((invocation) => invocation.coldStart)).toEqual([true, false])
  })

  it('runs an invocation on the environment it names, waiting for it when busy', async () => {
    const lambda = simulate({ handler: actions })
    await lambda.burst([{ action: 'count' }, { action: 'count' }])
    const [onFirst, again] = await Promise.all([
      lambda.invoke({ action: 'count' }, { environment: 'env-1' }),
      lambda.invoke({ action: 'count' }, { environment: 'env-1' }),
    ])
    expect(onFirst).toMatchObject({ environment: 'env-1', result: { count: 2 } })
    expect(again).toMatchObject({ environment: 'env-1', result: { count: 3 } })
    await expect(lambda.invoke({}, { environment: 'env-9' })).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_ENVIRONMENT',
    })
  })
})

describe('simulateLambda: freeze and thaw', () => {
  it('lets timers run between invocations with freeze: false', async () => {
    const lambda = simulate({ handler: actions, env: { TICK_MS: '5' }, freeze: false })
    const first = await lambda.invoke({ action: 'ticks' })
    const idleFrom = Date.now()
    expect(lambda.environments()[0]!.state).toBe('idle')
    expect(processState(first.pid)).not.toBe('T')
    await lambda.wait(300)
    const idleTo = Date.now()
    const second = await lambda.invoke({ action: 'ticks' })
    expect(
      (second.result as number[]).filter((time) => time > idleFrom && time < idleTo).length,
    ).toBeGreaterThan(5)
  })

  it('resumes work left pending at return on the next thaw', async () => {
    const lambda = simulate({ handler: actions })
    await lambda.invoke({ action: 'schedule' })
    await lambda.wait(100)
    // Frozen: the 20 ms timer could not fire. It runs on thaw, before the next event is handled.
    const next = await lambda.invoke({ action: 'pending' })
    expect(next.error).toBeUndefined()
    expect(next.result).toBe(true)
    expect(next.logs).toContain('pending work ran')
  })

  it('handles a socket the server closed while frozen once thawed, before the handler runs', async () => {
    const accepted: Socket[] = []
    const server = createServer((socket) => accepted.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as { port: number }
      const lambda = simulate({
        handler: `${fixture('socket.mjs')}#handler`,
        env: { SERVER_PORT: String(port) },
      })
      expect((await lambda.invoke({})).result).toEqual({ closed: false })
      await expect.poll(() => accepted.length).toBe(1)
      accepted[0]!.destroy()
      await lambda.wait(100)
      expect((await lambda.invoke({})).result).toEqual({ closed: true })
    } finally {
      server.close()
    }
  })
})
