import { fileURLToPath } from 'node:url'
import {
  type Invocation,
  type Simulation,
  simulateLambda,
  startPostgres,
  type TestPostgres,
} from '@warmstart/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js'

// Runs in child processes frozen with SIGSTOP; it imports the built packages (build them first).
const HANDLER = `${fileURLToPath(new URL('./fixtures/handler.mjs', import.meta.url))}#handler`

interface Result {
  pid: number
  process: number
  events: string[]
}

let server: TestPostgres
let simulation: Simulation | undefined
let proxy: TcpProxy | undefined

beforeAll(async () => {
  server = await startPostgres()
})

afterEach(async () => {
  await simulation?.stop()
  await proxy?.close()
  simulation = undefined
  proxy = undefined
})

afterAll(async () => {
  await server?.stop()
})

function simulate(
  applicationName: string,
  options: {
    env?: Record<string, string>
    port?: number
    mode?: 'managed-instances'
    maxConcurrency?: number
  } = {},
): Simulation {
  const config = {
    ...server.config,
    port: options.port ?? server.config.port,
    application_name: applicationName,
  }
  simulation = simulateLambda({
    handler: HANDLER,
    env: { PG_CONFIG: JSON.stringify(config), ...options.env },
    ...(options.mode === undefined ? {} : { mode: options.mode, maxConcurrency: options.maxConcurrency }),
  })
  return simulation
}

function result(invocation: Invocation): Result {
  expect(invocation.error).toBeUndefined()
  expect(invocation.ok).toBe(true)
  return invocation.result as Result
}

async function untilConnections(applicationName: string, n: number): Promise<void> {
  while ((await server.connectionCount({ applicationName })) !== n) {
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe('across real freezes', () => {
  it('survives 100 cycles of the server killing the connection while the environment is frozen', async () => {
    const lambda = simulate('freeze-kill')
    let previous = result(await lambda.invoke({})).pid
    let failed = 0
    for (let cycle = 0; cycle < 100; cycle++) {
      expect(await server.terminateBackends({ applicationName: 'freeze-kill' })).toBe(1)
      await lambda.wait(10)
      const invocation = await lambda.invoke({})
      if (!invocation.ok) failed += 1
      const { pid, events } = invocation.result as Result
      expect(pid).not.toBe(previous)
      // Known dead from the socket's events at thaw: replaced with no validation round trip.
      expect(events).toEqual(expect.arrayContaining(['pg.dead', 'pg.reconnect', 'pg.connect']))
      expect(events).not.toContain('pg.validate')
      previous = pid
    }
    expect(failed).toBe(0)
    expect(lambda.environments()).toHaveLength(1)
  })

  it('reuses a healthy connection after a freeze without a round trip, and checks one idle past validateAfterIdle', async () => {
    proxy = await startTcpProxy(server.config)
    const lambda = simulate('freeze-idle', { port: proxy.port, env: { PG_VALIDATE_AFTER_IDLE: '300ms' } })
    const first = result(await lambda.invoke({}))
    proxy.resetCount()
    const warm = result(await lambda.invoke({}))
    expect(warm.pid).toBe(first.pid)
    expect(warm.events).toEqual(['pg.reuse'])
    expect(proxy.roundTrips()).toBe(1)

    await lambda.wait(400)
    proxy.resetCount()
    const checked = result(await lambda.invoke({}))
    expect(checked.pid).toBe(first.pid)
    expect(checked.events).toEqual(['pg.validate'])
    expect(proxy.roundTrips()).toBe(2)
  })

  it('replaces a connection whose flow a NAT dropped silently during the freeze, within the validate deadline', async () => {
    proxy = await startTcpProxy(server.config)
    const lambda = simulate('freeze-nat', { port: proxy.port, env: { PG_VALIDATE_AFTER_IDLE: '300ms' } })
    const first = result(await lambda.invoke({}))
    proxy.dropExistingFlows()
    await lambda.wait(400)
    const next = result(await lambda.invoke({}))
    expect(next.pid).not.toBe(first.pid)
    expect(next.events).toEqual(['pg.dead', 'pg.validate', 'pg.reconnect', 'pg.connect'])
  })

  it('keeps exactly one server connection per environment, and a reaped environment loses its connection', async () => {
    const lambda = simulate('per-env')
    const burst = await lambda.burst([{ sleepMs: 100 }, { sleepMs: 100 }, { sleepMs: 100 }])
    expect(new Set(burst.map((invocation) => result(invocation).pid)).size).toBe(3)
    await lambda.burst([{}, {}, {}])
    expect(lambda.environments()).toHaveLength(3)
    expect(await server.connectionCount({ applicationName: 'per-env' })).toBe(3)
    await lambda.reap(lambda.environments()[0]!.id)
    await untilConnections('per-env', 2)
    expect(lambda.environments()).toHaveLength(2)
  })

  it('closes the connection politely on SIGTERM with closeOnShutdown', async () => {
    proxy = await startTcpProxy(server.config)
    const lambda = simulate('shutdown', { port: proxy.port, env: { PG_CLOSE_ON_SHUTDOWN: '1' } })
    result(await lambda.invoke({}))
    const [exit] = await lambda.shutdown(undefined, { graceMs: 2_000 })
    expect(exit).toMatchObject({ exitCode: 0 })
    expect(proxy.terminations()).toBe(1)
    await untilConnections('shutdown', 0)
  })

  it('a PgBouncer-like proxy restarting while the environment is frozen: 0 failed', async () => {
    proxy = await startTcpProxy(server.config)
    const lambda = simulate('bouncer', { port: proxy.port })
    result(await lambda.invoke({}))
    let failed = 0
    for (let cycle = 0; cycle < 10; cycle++) {
      proxy.resetFlows()
      await proxy.refuse()
      const invocation = lambda.invoke({})
      // The proxy is down for a while after the thaw: the invocation retries until it is back.
      await new Promise((resolve) => setTimeout(resolve, 200))
      await proxy.listen()
      if (!(await invocation).ok) failed += 1
    }
    expect(failed).toBe(0)
  })

  it('under Managed Instances, a role limit of 6 and 16 invocations at once: 0 failed, and the pool shrinks back when idle', async () => {
    await server.admin.query(`ALTER ROLE "${server.config.user}" CONNECTION LIMIT 6`)
    try {
      const lambda = simulate('mi-limit', {
        mode: 'managed-instances',
        maxConcurrency: 16,
        env: { PG_IDLE_TIMEOUT: '300ms' },
      })
      const burst = await lambda.burst(Array.from({ length: 16 }, () => ({ sleepMs: 200 })))
      expect(burst.filter((invocation) => !invocation.ok)).toEqual([])
      const results = burst.map(result)
      expect(new Set(results.map((r) => r.process)).size).toBe(1)
      expect(new Set(results.map((r) => r.pid)).size).toBeLessThanOrEqual(6)
      const again = await lambda.burst(Array.from({ length: 16 }, () => ({ sleepMs: 50 })))
      expect(again.filter((invocation) => !invocation.ok)).toEqual([])
      // Idle past idleTimeout, the connections beyond one are closed (the server's own count).
      await untilConnections('mi-limit', 1)
    } finally {
      await server.admin.query(`ALTER ROLE "${server.config.user}" CONNECTION LIMIT -1`)
    }
  })

  it('under Managed Instances gives concurrent invocations their own connections in one process', async () => {
    const lambda = simulate('managed', { mode: 'managed-instances', maxConcurrency: 3 })
    const results = (await lambda.burst([{ sleepMs: 200 }, { sleepMs: 200 }, { sleepMs: 200 }])).map(result)
    expect(new Set(results.map((r) => r.process)).size).toBe(1)
    expect(new Set(results.map((r) => r.pid)).size).toBe(3)
    expect(await server.connectionCount({ applicationName: 'managed' })).toBe(3)
    const again = (await lambda.burst([{}, {}])).map(result)
    expect(again.every((r) => results.some((first) => first.pid === r.pid))).toBe(true)
  })
})

describe('a server that restarts or refuses', () => {
  let dedicated: TestPostgres

  beforeAll(async () => {
    dedicated = await startPostgres({ dedicated: true })
  })

  afterAll(async () => {
    await dedicated?.stop()
  })

  it('restarted while the environment is frozen: the next invocation succeeds', async () => {
    simulation = simulateLambda({
      handler: HANDLER,
      env: { PG_CONFIG: JSON.stringify({ ...dedicated.config, application_name: 'restart' }) },
    })
    const first = result(await simulation.invoke({}))
    await dedicated.restart()
    const next = result(await simulation.invoke({}))
    expect(next.pid).not.toBe(first.pid)
    expect(next.events).toContain('pg.reconnect')
  })

  it('refusing connections for a while, then back: the invocation retries until it connects', async () => {
    simulation = simulateLambda({
      handler: HANDLER,
      env: { PG_CONFIG: JSON.stringify({ ...dedicated.config, application_name: 'refuse' }) },
    })
    result(await simulation.invoke({}))
    await dedicated.stopServer()
    const invocation = simulation.invoke({})
    await new Promise((resolve) => setTimeout(resolve, 200))
    await dedicated.startServer()
    const next = result(await invocation)
    expect(next.events).toEqual(expect.arrayContaining(['pg.dead', 'pg.reconnect', 'pg.connect']))
  })
})
