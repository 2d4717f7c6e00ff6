import { trackInvocation } from '@warmstart/core/internal'
import {
  ConnectError,
  type PgConnection,
  type PgConnectionOptions,
  pgConnection,
  pgMiddleware,
} from '@warmstart/pg'
import { type FakeClock, fakeClock, startPostgres, type TestPostgres } from '@warmstart/testing'
import { deferred, type EventRecorder, lambdaContext, recordEvents } from '@warmstart/testing/doubles'
import type { Client } from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { invocationScope } from '../src/pg-connection.js'
import type { ConnectionPool } from '../src/pool.js'
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js'

let server: TestPostgres
let proxy: TcpProxy
let log: EventRecorder
let clock: FakeClock
const open: PgConnection[] = []
let app = 0
let application = ''
let invocation = 0

beforeAll(async () => {
  server = await startPostgres()
  proxy = await startTcpProxy(server.config)
  await server.admin.query('CREATE TABLE items (id int PRIMARY KEY)')
  await server.admin.query(`GRANT ALL ON items TO "${server.config.user}"`)
})

afterAll(async () => {
  await proxy?.close()
  await server?.stop()
})

beforeEach(() => {
  log = recordEvents('pg.')
  clock = fakeClock()
  app += 1
  application = `pg-test-${app}`
})

afterEach(async () => {
  log.stop()
  await Promise.all(open.splice(0).map((db) => db.end()))
  proxy.blackholeNewFlows(false)
  await server.admin.query('TRUNCATE items')
})

/** A connection through the proxy, named so the server's view of it can be counted. */
function connect(options: Partial<PgConnectionOptions> = {}): PgConnection {
  const db = pgConnection({
    config: { ...server.config, host: '127.0.0.1', port: proxy.port, application_name: application },
    clock,
    validateTimeout: 300,
    ...options,
  })
  open.push(db)
  return db
}

/** Starts an invocation the way every warmstart middleware does. */
function nextInvocation(): string {
  invocation += 1
  const awsRequestId = `req-${invocation}`
  trackInvocation({ awsRequestId })
  return awsRequestId
}

async function backendPid(db: PgConnection): Promise<number> {
  const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  return rows[0]!.pid
}

/** Waits (on the server's own view, not a timer) until a backend of this test waits for a lock. */
async function untilWaitingOnLock(): Promise<void> {
  for (;;) {
    const { rows } = await server.admin.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
      [application],
    )
    if (rows[0].n > 0) return
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Waits until the server's own count of this test's connections is `n`. */
async function untilConnections(n: number): Promise<void> {
  while ((await server.connectionCount({ applicationName: application })) !== n) {
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe('a warm connection', () => {
  it('connects lazily, once, and then costs exactly one round trip per query', async () => {
    const db = connect()
    expect(await server.connectionCount({ applicationName: application })).toBe(0)
    nextInvocation()
    await db.query('SELECT 1')
    proxy.resetCount()
    for (let i = 0; i < 10; i++) {
      nextInvocation()
      clock.advance('1s')
      const { rows } = await db.query<{ n: number }>('SELECT $1::int AS n', [i])
      expect(rows[0]!.n).toBe(i)
    }
    expect(proxy.roundTrips()).toBe(10)
    expect(log.of('pg.connect')).toHaveLength(1)
    expect(log.of('pg.reuse').length).toBeGreaterThanOrEqual(10)
    expect(log.of('pg.validate')).toHaveLength(0)
    expect(await server.connectionCount({ applicationName: application })).toBe(1)
  })

  it('checks a connection idle past validateAfterIdle with one round trip, then reuses it', async () => {
    const db = connect({ validateAfterIdle: '5s' })
    nextInvocation()
    const pid = await backendPid(db)
    clock.advance('6s')
    proxy.resetCount()
    nextInvocation()
    expect(await backendPid(db)).toBe(pid)
    expect(proxy.roundTrips()).toBe(2)
    expect(log.of('pg.validate')).toMatchObject([{ ok: true, idleMs: 6000 }])
  })

  it('notices from socket events that the server killed it, and replaces it before use', async () => {
    const db = connect()
    nextInvocation()
    const pid = await backendPid(db)
    const dead = log.next('pg.dead')
    await server.terminateBackends({ applicationName: application })
    await dead
    nextInvocation()
    expect(await backendPid(db)).not.toBe(pid)
    expect(log.of('pg.reconnect')).toMatchObject([{ reason: 'dead' }])
    expect(log.of('pg.dead')[0]!.reason).toMatch(/57P01|terminat/)
  })

  it('catches a flow dropped silently (a NAT after a freeze) with the validate deadline', async () => {
    const db = connect({ validateAfterIdle: '5s', validateTimeout: 200 })
    nextInvocation()
    const pid = await backendPid(db)
    proxy.dropExistingFlows()
    clock.advance('1m')
    nextInvocation()
    expect(await backendPid(db)).not.toBe(pid)
    expect(log.of('pg.validate')).toMatchObject([{ ok: false }])
    expect(log.of('pg.reconnect')).toMatchObject([{ reason: 'validate-failed' }])
    expect(log.of('pg.dead')[0]!.reason).toBe('no answer within 200 ms')
  })

  it('recycles a connection older than maxLifetime when an invocation takes it', async () => {
    const db = connect({ maxLifetime: '1m' })
    nextInvocation()
    const pid = await backendPid(db)
    clock.advance('30s')
    expect(await backendPid(db)).toBe(pid)
    clock.advance('31s')
    expect(await backendPid(db)).toBe(pid) // never in the middle of an invocation
    nextInvocation()
    expect(await backendPid(db)).not.toBe(pid)
    expect(log.of('pg.reconnect')).toMatchObject([{ reason: 'max-lifetime' }])
    await untilConnections(1)
  })
})

describe('a logger that throws', () => {
  it('changes nothing: the connect succeeds, and a connection killed while idle does not crash the process', async () => {
    const broken = () => {
      throw new Error('log sink down')
    }
    const errors: unknown[] = []
    const consoleError = console.error
    console.error = (...args: unknown[]) => errors.push(args)
    try {
      const db = connect({ logger: { debug: broken, warn: broken, error: broken } })
      nextInvocation()
      const pid = await backendPid(db)
      const dead = log.next('pg.dead')
      await server.terminateBackends({ applicationName: application })
      await dead
      nextInvocation()
      expect(await backendPid(db)).not.toBe(pid)
      // What the logger could not take went to the console instead of being lost.
      expect(errors.length).toBeGreaterThan(0)
    } finally {
      console.error = consoleError
    }
  })
})

describe('a connection lost under a query', () => {
  it('gives the error to the caller (no silent retry) and a new connection to the next query', async () => {
    const db = connect()
    nextInvocation()
    await server.admin.query('SELECT pg_advisory_lock(41)')
    const blocked = db.query('SELECT pg_advisory_xact_lock(41)').catch((error: unknown) => error)
    await untilWaitingOnLock()
    await server.terminateBackends({ applicationName: application })
    expect(await blocked).toMatchObject({ code: '57P01' })
    await server.admin.query('SELECT pg_advisory_unlock(41)')
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('runs an idempotent statement once more on a new connection', async () => {
    const db = connect()
    nextInvocation()
    await server.admin.query('SELECT pg_advisory_lock(42)')
    const blocked = db.query<{ answer: number }>('SELECT 42 AS answer FROM pg_advisory_xact_lock(42)', [], {
      idempotent: true,
    })
    await untilWaitingOnLock()
    await server.terminateBackends({ applicationName: application })
    await server.admin.query('SELECT pg_advisory_unlock(42)')
    expect((await blocked).rows).toEqual([{ answer: 42 }])
    expect(log.of('pg.reconnect')).toHaveLength(1)
  })

  it('does not retry an idempotent statement inside a transaction: the work before it is gone', async () => {
    const db = connect()
    nextInvocation()
    await db.query('BEGIN')
    await server.admin.query('SELECT pg_advisory_lock(43)')
    const blocked = db
      .query('SELECT pg_advisory_xact_lock(43)', [], { idempotent: true })
      .catch((error: unknown) => error)
    await untilWaitingOnLock()
    await server.terminateBackends({ applicationName: application })
    expect(await blocked).toMatchObject({ code: '57P01' })
    await server.admin.query('SELECT pg_advisory_unlock(43)')
  })

  it('passes ordinary SQL errors through and keeps the connection', async () => {
    const db = connect()
    nextInvocation()
    const pid = await backendPid(db)
    await expect(db.query('SELECT 1/0', [], { idempotent: true })).rejects.toMatchObject({ code: '22012' })
    expect(await backendPid(db)).toBe(pid)
  })
})

describe('connecting', () => {
  it('retries while the server refuses connections, and connects when it is back', async () => {
    await proxy.refuse()
    const warnings: string[] = []
    const firstRetry = new Promise<void>((resolve) => {
      warnings.push = (...items: string[]) => {
        resolve()
        return Array.prototype.push.apply(warnings, items)
      }
    })
    const db = connect({
      retry: { baseDelay: 5, maxDelay: 50 },
      connectTimeout: '10s',
      logger: { warn: (message) => warnings.push(message), error: () => undefined },
    })
    nextInvocation()
    const result = db.query('SELECT 1 AS one')
    await firstRetry
    await proxy.listen()
    expect((await result).rows).toEqual([{ one: 1 }])
    expect(warnings[0]).toBe('pg.connect-retry')
    expect(log.of('pg.connect')[0]!.attempts).toBeGreaterThan(1)
  })

  it('outside an invocation, gives up after connectTimeout with ConnectError naming the cause, never the password', async () => {
    proxy.blackholeNewFlows(true)
    const db = connect({ connectTimeout: 50, retry: { baseDelay: 1, maxDelay: 2 } })
    nextInvocation()
    const error = await db.query('SELECT 1').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConnectError)
    expect(error).toMatchObject({ code: 'ERR_PG_CONNECT', attempts: 1, reason: 'unreachable' })
    expect((error as Error).message).toMatch(/timeout/)
    expect((error as Error).message).not.toContain(server.config.password)
  })

  it('fails a refused password at once when the config is static', async () => {
    const password = `wrong-${server.config.password}`
    const db = connect({ config: { ...server.config, password } })
    nextInvocation()
    const error = await db.query('SELECT 1').catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'ERR_PG_CONNECT',
      attempts: 1,
      reason: 'auth',
      cause: { code: '28P01' },
    })
    expect((error as Error).message).not.toContain(password)
  })

  it('asks a config provider once for fresh credentials when the password is refused', async () => {
    const asked: boolean[] = []
    const db = connect({
      config: async ({ refresh }) => {
        asked.push(refresh)
        return { ...server.config, password: refresh ? server.config.password : 'stale-password' }
      },
    })
    nextInvocation()
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    expect(asked).toEqual([false, true])
    expect(log.of('pg.rotate')).toMatchObject([{ code: '28P01' }])
  })

  it('fails clearly when fresh credentials are refused too', async () => {
    const db = connect({
      config: async () => `postgres://${server.config.user}:nope@127.0.0.1:${proxy.port}/x`,
    })
    nextInvocation()
    await expect(db.query('SELECT 1')).rejects.toMatchObject({ reason: 'auth', attempts: 2 })
  })

  it('reports a failing config provider as a config failure', async () => {
    const db = connect({
      config: () => {
        throw new Error('secret not found')
      },
    })
    nextInvocation()
    await expect(db.query('SELECT 1')).rejects.toMatchObject({
      reason: 'config',
      message: expect.stringContaining('secret not found'),
    })
    // A failed creation is not cached: the next use tries again.
    await expect(db.query('SELECT 1')).rejects.toMatchObject({ reason: 'config' })
  })

  it('outside an invocation, bounds a config provider that never settles by connectTimeout', async () => {
    const db = connect({ config: () => new Promise<never>(() => undefined), connectTimeout: 50 })
    await expect(db.query('SELECT 1')).rejects.toMatchObject({
      code: 'ERR_PG_CONNECT',
      reason: 'config',
      outOfTime: true,
      attempts: 1,
    })
  })

  it.each([
    ['nothing (a forgotten return)', undefined],
    ['a number', 5432],
    ['null', null],
  ])(
    'fails a config provider that returns %s at once as config, never connecting to pg defaults',
    async (_, value) => {
      const db = connect({ config: async () => value as never, connectTimeout: 200 })
      const error = await db.query('SELECT 1').catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'config', attempts: 1 })
      expect((error as Error).message).toMatch(/config provider returned/)
    },
  )

  it('does not retry a database that does not exist', async () => {
    const db = connect({ config: { ...server.config, database: 'no_such_database' } })
    nextInvocation()
    await expect(db.query('SELECT 1')).rejects.toMatchObject({ reason: 'config', attempts: 1 })
  })

  it('shares one connect between queries that race for it', async () => {
    const db = connect()
    nextInvocation()
    const pids = await Promise.all([backendPid(db), backendPid(db), backendPid(db)])
    expect(new Set(pids).size).toBe(1)
    expect(log.of('pg.connect')).toHaveLength(1)
  })
})

describe('no state leaks between invocations', () => {
  it('rolls back a transaction the previous invocation left open, before the next one uses it', async () => {
    const db = connect()
    nextInvocation()
    await db.query('BEGIN')
    await db.query('INSERT INTO items VALUES (1)')
    await db.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE')
    nextInvocation()
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM items')
    expect(rows[0]!.n).toBe(0)
    expect(log.of('pg.rollback')).toMatchObject([{ status: 'T', ok: true }])
    const locks = await server.admin.query(
      "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1 AND l.locktype = 'relation' AND l.relation = 'items'::regclass",
      [application],
    )
    expect(locks.rows[0].n).toBe(0)
  })

  it('closes a connection whose rollback gets no answer: the server rolls back itself', async () => {
    const db = connect({ validateTimeout: 100 })
    nextInvocation()
    const pid = await backendPid(db)
    await db.query('BEGIN')
    proxy.dropExistingFlows()
    nextInvocation()
    expect(await backendPid(db)).not.toBe(pid)
    expect(log.of('pg.rollback')).toMatchObject([{ status: 'T', ok: false }])
  })

  it('rolls back a failed transaction', async () => {
    const db = connect()
    nextInvocation()
    await db.query('BEGIN')
    await expect(db.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' })
    nextInvocation()
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    expect(log.of('pg.rollback')).toMatchObject([{ status: 'E', ok: true }])
  })

  it('keeps SET session settings unless resetSession, which runs DISCARD ALL', async () => {
    const kept = connect()
    nextInvocation()
    await kept.query("SET statement_timeout = '1234ms'")
    nextInvocation()
    expect((await kept.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '1234ms' }])

    const reset = connect({ resetSession: true })
    nextInvocation()
    await reset.query("SET statement_timeout = '1234ms'")
    nextInvocation()
    expect((await reset.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '0' }])
    expect(log.of('pg.reset')).toMatchObject([{ ok: true }])
  })
})

describe('odd paths', () => {
  it('checks a connection idle inside a failed transaction: the server answering with an error is alive', async () => {
    const debug: string[] = []
    const db = connect({
      validateAfterIdle: '5s',
      logger: { debug: (message) => debug.push(message), warn: () => undefined, error: () => undefined },
    })
    nextInvocation()
    const pid = await backendPid(db)
    await db.query('BEGIN')
    await expect(db.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' })
    clock.advance('10s')
    await expect(db.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' })
    expect(log.of('pg.validate')).toMatchObject([{ ok: true }])
    nextInvocation()
    expect(await backendPid(db)).toBe(pid)
    expect(debug).toEqual(expect.arrayContaining(['pg.connect', 'pg.validate', 'pg.reuse']))
  })

  it('never hands over a connection whose socket has ended, even before pg itself has said so', async () => {
    // Under the real runtime client the invocation a thaw starts can run between the socket's
    // 'end' (a close read at the thaw) and pg's own 'end', which pg re-emits on a later tick.
    // Starting the next invocation inside the socket's 'end' reproduces that order in process.
    const db = connect()
    const middleware = pgMiddleware({ db, setToContext: 'pg' })
    const first = lambdaContext() as ReturnType<typeof lambdaContext> & { pg?: Client }
    const request = (context: typeof first) => ({ event: {}, context, response: undefined, error: undefined })
    await middleware.before!(request(first))
    const pid = (await first.pg!.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    await middleware.after!(request(first))
    const second = lambdaContext() as typeof first
    const started = new Promise<void>((resolve, reject) => {
      first.pg!.connection.stream.once('end', () => {
        Promise.resolve(middleware.before!(request(second))).then(resolve, reject)
      })
    })
    proxy.resetFlows()
    await started
    const { rows } = await second.pg!.query('SELECT pg_backend_pid() AS pid')
    expect(rows[0].pid).not.toBe(pid)
    await middleware.after!(request(second))
  })

  it('lets pgMiddleware take over a lease that a query of the same invocation started', async () => {
    const db = connect()
    const context = lambdaContext({ requestId: `take-over-${app}` })
    trackInvocation(context)
    const pid = await backendPid(db)
    const middleware = pgMiddleware({ db, setToContext: 'pg' })
    const request = {
      event: {},
      context: context as typeof context & { pg?: Client },
      response: undefined,
      error: undefined,
    }
    await middleware.before!(request)
    expect((await request.context.pg!.query('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid)
    await request.context.pg!.query('BEGIN')
    await request.context.pg!.query('SELECT 1/0').catch(() => undefined)
    await middleware.onError!(request)
    expect(log.of('pg.rollback')).toMatchObject([{ status: 'E', ok: true }])
  })
})

describe('status read after the ReadyForQuery that follows an error', () => {
  afterEach(() => proxy.delayReadyAfterError(0))

  it('waits for the late ReadyForQuery before deciding to roll back', async () => {
    const db = connect()
    nextInvocation()
    await db.query('SELECT 1')
    proxy.delayReadyAfterError(50)
    await db.query('BEGIN')
    await expect(db.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' })
    nextInvocation()
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    expect(log.of('pg.rollback')).toMatchObject([{ status: 'E', ok: true }])
  })

  it('gives up on a ReadyForQuery that never comes, and replaces the connection', async () => {
    const db = connect({ validateTimeout: 30 })
    nextInvocation()
    await db.query('SELECT 1')
    proxy.delayReadyAfterError(60_000)
    await expect(db.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' })
    proxy.delayReadyAfterError(0)
    nextInvocation()
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    expect(log.of('pg.dead')[0]!.reason).toBe('no ReadyForQuery within 30 ms')
  })
})

describe('the client and the end', () => {
  it('hands out the checked pg.Client of this invocation', async () => {
    const db = connect()
    nextInvocation()
    const client = await db.client()
    expect((await client.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }])
    expect(await db.client()).toBe(client)
  })

  it('ends its connections, and opens a new one if used again', async () => {
    const db = connect()
    nextInvocation()
    await db.query('SELECT 1')
    await db.end()
    await untilConnections(0)
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('ends a connect waiting on its config provider: nothing is opened after end(), and its query fails as ended', async () => {
    const asked = deferred()
    const provided = deferred()
    const db = connect({
      config: async () => {
        asked.resolve()
        await provided.promise
        return { ...server.config, host: '127.0.0.1', port: proxy.port, application_name: application }
      },
    })
    nextInvocation()
    const query = db.query('SELECT 1').catch((error: unknown) => error)
    await asked.promise
    await db.end()
    provided.resolve()
    expect(await query).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'ended', attempts: 1 })
    expect(await server.connectionCount({ applicationName: application })).toBe(0)
    // A use after end() opens a new connection, as documented.
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('ends a connect whose config provider never settles, and leaves no timer of it running', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
    const before = timers()
    const asked = deferred()
    const db = connect({
      config: () => {
        asked.resolve()
        return new Promise<never>(() => undefined)
      },
      connectTimeout: '1m',
    })
    const query = db.query('SELECT 1').catch((error: unknown) => error)
    await asked.promise
    // The provider's time limit (the connect's minute) is running.
    expect(timers()).toBeGreaterThan(before)
    await db.end()
    expect(await query).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'ended', attempts: 1 })
    expect(timers()).toBe(before)
  })

  it('ends a connect whose login is still in progress: its socket is closed, and its query fails as ended', async () => {
    const held = proxy.holdNewFlows()
    const db = connect()
    nextInvocation()
    const query = db.query('SELECT 1').catch((error: unknown) => error)
    await held
    await db.end()
    proxy.releaseNewFlows()
    expect(await query).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'ended' })
    expect(await server.connectionCount({ applicationName: application })).toBe(0)
  })

  it('ends a connect waiting between retries: it does not connect once the server is back', async () => {
    await proxy.refuse()
    const retrying = deferred()
    const db = connect({
      retry: { baseDelay: 5, maxDelay: 50 },
      connectTimeout: '10s',
      logger: { warn: () => retrying.resolve(), error: () => undefined },
    })
    nextInvocation()
    const query = db.query('SELECT 1').catch((error: unknown) => error)
    await retrying.promise
    await db.end()
    await proxy.listen()
    expect(await query).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'ended' })
    expect(await server.connectionCount({ applicationName: application })).toBe(0)
  })

  it('does not reopen a connection for an idempotent statement that end() interrupted', async () => {
    const db = connect()
    nextInvocation()
    await server.admin.query('SELECT pg_advisory_lock(44)')
    const blocked = db
      .query('SELECT 44 AS answer FROM pg_advisory_xact_lock(44)', [], { idempotent: true })
      .catch((error: unknown) => error)
    await untilWaitingOnLock()
    await db.end()
    await server.admin.query('SELECT pg_advisory_unlock(44)')
    expect(await blocked).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'ended' })
    await untilConnections(0)
    expect(log.of('pg.connect')).toHaveLength(1)
  })

  it('resolves only once a connection the idle sweep is still closing is closed too', async () => {
    const db = connect({ maxConnections: 2, idleTimeout: '1m' })
    const middleware = pgMiddleware({ db, setToContext: 'pg' })
    type PgContext = ReturnType<typeof lambdaContext> & { pg?: Client }
    const request = (context: PgContext) => ({ event: {}, context, response: undefined, error: undefined })
    const contexts: PgContext[] = [lambdaContext(), lambdaContext()]
    await Promise.all(contexts.map((context) => middleware.before!(request(context))))
    const [swept, kept] = contexts.map((context) => context.pg!)
    const keptPid = (await kept!.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    await Promise.all(contexts.map((context) => middleware.after!(request(context))))
    // The kept one is dead (end() has nothing to wait for there); the swept one's flow is dropped,
    // so the sweep's polite end waits for its validateTimeout.
    const dead = log.next('pg.dead')
    await server.admin.query('SELECT pg_terminate_backend($1)', [keptPid])
    await dead
    proxy.dropExistingFlows()
    clock.advance('2m')
    ;(invocationScope(db) as ConnectionPool).sweep()
    expect(log.of('pg.close-idle')).toHaveLength(1)
    await db.end()
    expect(swept!.connection.stream.destroyed).toBe(true)
  })

  it('ends a connection that no longer answers without waiting on it', async () => {
    const db = connect({ validateTimeout: 50 })
    nextInvocation()
    await db.query('SELECT 1')
    proxy.dropExistingFlows()
    await db.end()
    expect(log.of('pg.dead')).toHaveLength(0)
  })
})
