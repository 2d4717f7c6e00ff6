import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import middy from '@middy/core'
import type { LambdaContext, Middleware } from '@warmstart/core'
import { trackInvocation } from '@warmstart/core/internal'
import { type ParamsOf, paramsMiddleware, secretsManager } from '@warmstart/params'
import { fromSecretsManagerClient } from '@warmstart/params/secrets-manager-sdk'
import { type PgConnection, pgConnection, pgMiddleware } from '@warmstart/pg'
import { fakeClock, type LocalAws, startLocalAws, startPostgres, type TestPostgres } from '@warmstart/testing'
import { lambdaContext as contextDouble, type EventRecorder, recordEvents } from '@warmstart/testing/doubles'
import type { Context } from 'aws-lambda'
import type { Client } from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { invocationScope } from '../src/pg-connection.js'
import type { ConnectionPool } from '../src/pool.js'

let server: TestPostgres
let aws: LocalAws
let log: EventRecorder
const open: PgConnection[] = []

beforeAll(async () => {
  server = await startPostgres()
  aws = await startLocalAws({ secrets: { 'app/db': JSON.stringify(server.config) } })
  await server.admin.query('CREATE TABLE orders (id int PRIMARY KEY)')
  await server.admin.query(`GRANT ALL ON orders TO "${server.config.user}"`)
})

afterAll(async () => {
  await aws?.stop()
  await server?.stop()
})

beforeEach(() => {
  log = recordEvents('pg.')
})

afterEach(async () => {
  log.stop()
  await Promise.all(open.splice(0).map((db) => db.end()))
})

/** What Lambda passes in; typed as the chain's context, whose extra keys the middlewares fill in. */
function lambdaContext<C extends Context = Context>(remainingMs = 30_000): C {
  return contextDouble({ remainingMs, functionName: 'orders' }) as unknown as C
}

function track(db: PgConnection): PgConnection {
  open.push(db)
  return db
}

type PgContext = Context & { pg: Client }

describe('pgMiddleware in a real Middy chain', () => {
  it('gets credentials from the params middleware, and survives a password rotation without a failed invocation', async () => {
    const secrets = secretsManager({
      client: fromSecretsManagerClient(new SecretsManagerClient({ ...aws.clientConfig })),
      ttl: '1h',
    })
    const credentials = secrets.ref<typeof server.config>('app/db', { transform: 'json' })
    const db = track(
      pgConnection({
        name: 'orders',
        config: async ({ refresh }) => {
          const secret = refresh
            ? await secrets.refresh<typeof server.config>('app/db', { transform: 'json' })
            : await secrets.get<typeof server.config>('app/db', { transform: 'json' })
          return { ...secret, application_name: 'mw-rotation' }
        },
      }),
    )
    const fetch = { credentials }
    const handler = middy(async (_event: unknown, context: PgContext & ParamsOf<typeof fetch>) => {
      expect(context.credentials).toMatchObject({ user: server.config.user })
      const { rows } = await context.pg.query<{ user: string }>('SELECT current_user AS user')
      return rows[0]!.user
    })
      .use(paramsMiddleware({ fetch }))
      .use(pgMiddleware({ db, setToContext: true }))

    expect(await handler({}, lambdaContext())).toBe(server.config.user)
    expect(await handler({}, lambdaContext())).toBe(server.config.user)
    expect(aws.callCount({ service: 'secretsmanager' })).toBe(1)

    const rotated = { ...server.config, password: `${server.config.password}-rotated` }
    await server.setPassword(server.config.user, rotated.password)
    aws.rotateSecret('app/db', JSON.stringify(rotated))
    // Existing sessions outlive a rotation: make the next invocation need a new login.
    await server.terminateBackends({ applicationName: 'mw-rotation' })

    const results = []
    for (let i = 0; i < 5; i++) results.push(await handler({}, lambdaContext()))
    expect(results).toEqual(Array(5).fill(server.config.user))
    expect(log.of('pg.rotate')).toMatchObject([{ name: 'orders', code: '28P01' }])
    expect(log.of('pg.connect')).toHaveLength(2)
    expect(aws.callCount({ service: 'secretsmanager' })).toBe(2)
    await server.setPassword(server.config.user, server.config.password)
  })

  it('rolls back a handler that threw mid-transaction: no rows, no locks, no transaction next time', async () => {
    const db = track(pgConnection({ config: { ...server.config, application_name: 'mw-tx' } }))
    const fail = middy(async (_event: unknown, context: Context) => {
      const { pg } = context as PgContext
      await pg.query('BEGIN')
      await pg.query('INSERT INTO orders VALUES (1)')
      await pg.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE')
      throw new Error('payment declined')
    }).use(pgMiddleware({ db, setToContext: true }))
    const inspect = middy(async (_event: unknown, context: Context) => {
      const { conn } = context as Context & { conn: Client }
      const inTransaction = await conn.query<{ now: Date; stmt: Date }>(
        'SELECT now() AS now, statement_timestamp() AS stmt',
      )
      const count = await conn.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')
      return {
        sameInstant: inTransaction.rows[0]!.now.getTime() === inTransaction.rows[0]!.stmt.getTime(),
        rows: count.rows[0]!.n,
      }
    }).use(pgMiddleware({ db, setToContext: 'conn' }))

    await expect(fail({}, lambdaContext())).rejects.toThrow('payment declined')
    expect(log.of('pg.rollback')).toMatchObject([{ status: 'T', ok: true }])
    const locks = await server.admin.query(
      "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'mw-tx' AND l.locktype = 'relation'",
    )
    expect(locks.rows[0].n).toBe(0)
    expect(await inspect({}, lambdaContext())).toEqual({ sameInstant: true, rows: 0 })
    expect((await server.admin.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(0)
  })

  it('does not connect when the invocation has no time left for it', async () => {
    const db = track(
      pgConnection({ config: { ...server.config, host: '10.255.255.1' }, connectTimeout: '5s' }),
    )
    const handler = middy(async () => 'never').use(pgMiddleware({ db }))
    await expect(handler({}, lambdaContext(0))).rejects.toMatchObject({
      code: 'ERR_PG_CONNECT',
      reason: 'deadline',
    })
  })

  it('bounds a connect by the invocation remaining time', async () => {
    // A black-holed address: the attempt can only end by the deadline.
    const db = track(
      pgConnection({ config: { ...server.config, host: '10.255.255.1' }, connectTimeout: '5s' }),
    )
    const handler = middy(async () => 'never').use(pgMiddleware({ db }))
    const error = await handler({}, lambdaContext(300)).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_PG_CONNECT' })
    expect((error as Error).message).not.toContain(server.config.password)
  })

  it('with resetSession, discards session state when each invocation ends', async () => {
    const db = track(pgConnection({ config: server.config, resetSession: true }))
    const handler = middy(async (event: { set: boolean }) => {
      if (event.set) await db.query("SET statement_timeout = '4321ms'")
      return (await db.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!
        .statement_timeout
    }).use(pgMiddleware({ db }))
    expect(await handler({ set: true }, lambdaContext())).toBe('4321ms')
    expect(await handler({ set: false }, lambdaContext())).toBe('0')
    expect(log.of('pg.reset')).toMatchObject([{ ok: true }, { ok: true }])
  })

  it('rejects options that are not a pgConnection', () => {
    expect(() => pgMiddleware({ db: {} as PgConnection })).toThrow(/option "db"/)
    const db = track(pgConnection({ config: server.config }))
    expect(() => pgMiddleware({ db, setToContext: '' })).toThrow(/option "setToContext"/)
    // A name the Lambda context already has would replace it: every later deadline reads it.
    expect(() => pgMiddleware({ db, setToContext: 'getRemainingTimeInMillis' })).toThrow(
      /option "setToContext" is one of the Lambda context's own members/,
    )
    expect(() => pgMiddleware({ db, setToContext: '__proto__' })).toThrow(/option "setToContext"/)
  })

  it('does nothing when it ends an invocation it never started', async () => {
    const db = track(pgConnection({ config: server.config }))
    const middleware = pgMiddleware({ db })
    await middleware.after?.({ event: {}, context: lambdaContext(), response: undefined, error: undefined })
    expect(log.events).toHaveLength(0)
  })
})

type PgMiddleware = Middleware
function begin(middleware: PgMiddleware, context: LambdaContext) {
  return middleware.before!({ event: {}, context, response: undefined, error: undefined })
}
function end(middleware: PgMiddleware, context: LambdaContext) {
  return middleware.after!({ event: {}, context, response: undefined, error: undefined })
}
async function pidOf(context: LambdaContext): Promise<number> {
  return (await (context as PgContext).pg.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
}

describe('the warm path', () => {
  it('hands a warm connection over and takes it back without a round trip or a lease of its own', async () => {
    const db = track(pgConnection({ config: { ...server.config, application_name: 'mw-warm' } }))
    const middleware = pgMiddleware({ db, setToContext: true })
    const cold = lambdaContext()
    await begin(middleware, cold)
    const pid = await pidOf(cold)
    await end(middleware, cold)
    for (let i = 0; i < 3; i++) {
      const warm = lambdaContext()
      await begin(middleware, warm)
      expect((warm as PgContext).pg).toBe((cold as PgContext).pg)
      await end(middleware, warm)
    }
    expect(log.of('pg.reuse')).toHaveLength(3)
    // Nobody listening: the same, without an event; a logger alone still hears of it.
    log.stop()
    const unheard = lambdaContext()
    await begin(middleware, unheard)
    await end(middleware, unheard)
    const debug: string[] = []
    const logged = track(
      pgConnection({
        config: { ...server.config, application_name: 'mw-warm' },
        logger: { debug: (message) => debug.push(message), warn: () => {}, error: () => {} },
      }),
    )
    const withLogger = pgMiddleware({ db: logged, setToContext: true })
    for (let i = 0; i < 2; i++) {
      const context = lambdaContext()
      await begin(withLogger, context)
      await end(withLogger, context)
    }
    expect(debug).toEqual(['pg.connect', 'pg.reuse'])
    const last = lambdaContext()
    await begin(middleware, last)
    expect(await pidOf(last)).toBe(pid)
    await end(middleware, last)
  })

  it('shares one connect between a query started at init and the first invocation', async () => {
    const db = track(pgConnection({ config: { ...server.config, application_name: 'mw-init' } }))
    const warming = db.query('SELECT 1')
    const middleware = pgMiddleware({ db, setToContext: true })
    const context = lambdaContext()
    await begin(middleware, context)
    await warming
    expect(log.of('pg.connect')).toHaveLength(1)
    expect(await server.connectionCount({ applicationName: 'mw-init' })).toBe(1)
    await end(middleware, context)
  })

  it('checks a connection idle past validateAfterIdle and replaces one past maxLifetime before the handler gets it', async () => {
    const clock = fakeClock()
    const db = track(
      pgConnection({ config: server.config, clock, validateAfterIdle: '5s', maxLifetime: '1m' }),
    )
    const middleware = pgMiddleware({ db, setToContext: true })
    const invoke = async () => {
      const context = lambdaContext()
      // Handed over as it was: no check, no reconnect on the way.
      const before = log.events.filter((e) => e.type !== 'pg.reuse').length
      await begin(middleware, context)
      const warm = log.events.filter((e) => e.type !== 'pg.reuse').length === before
      const pid = await pidOf(context)
      await end(middleware, context)
      return { pid, warm }
    }
    const first = await invoke()
    clock.advance('6s')
    expect(await invoke()).toEqual({ pid: first.pid, warm: false })
    expect(log.of('pg.validate')).toMatchObject([{ ok: true, idleMs: 6_000 }])
    const seen: { pid: number; warm: boolean }[] = []
    for (let i = 0; i < 14; i++) {
      clock.advance('4s')
      seen.push(await invoke())
    }
    // 62 s old at the last one: recycled; every other one was handed over as it was.
    expect(seen.slice(0, -1).every((one) => one.warm && one.pid === first.pid)).toBe(true)
    expect(seen.at(-1)).toMatchObject({ warm: false })
    expect(seen.at(-1)?.pid).not.toBe(first.pid)
    expect(log.of('pg.reconnect')).toMatchObject([{ reason: 'max-lifetime' }])
    expect(log.of('pg.validate')).toHaveLength(1)
  })

  it('with resetSession, resets a connection that a query outside pgMiddleware used before an invocation gets it', async () => {
    const db = track(pgConnection({ config: server.config, resetSession: true, maxConnections: 2 }))
    trackInvocation({ awsRequestId: 'reset-outside' })
    await db.query("SET statement_timeout = '4321ms'")
    const middleware = pgMiddleware({ db, setToContext: true })
    const context = lambdaContext()
    await begin(middleware, context)
    const { rows } = await (context as PgContext).pg.query('SHOW statement_timeout')
    expect(rows[0].statement_timeout).toBe('0')
    expect(log.of('pg.reset')).toMatchObject([{ ok: true }])
    await end(middleware, context)
  })

  it('an invocation ended while its connect is failing leaves nothing behind', async () => {
    const db = track(pgConnection({ config: { ...server.config, host: '10.255.255.1' } }))
    const middleware = pgMiddleware({ db, setToContext: true })
    const context = lambdaContext(0)
    const started = Promise.resolve(begin(middleware, context)).catch((error: unknown) => error)
    await end(middleware, context)
    expect(await started).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'deadline' })
    expect(log.of('pg.rollback')).toHaveLength(0)
    expect(
      await middleware.after?.({ event: {}, context, response: undefined, error: undefined }),
    ).toBeUndefined()
  })
})

describe('Lambda Managed Instances: one connection per invocation in flight', () => {
  it('gives concurrent invocations their own connections, up to the concurrency, and queues the rest', async () => {
    const db = track(
      pgConnection({ config: { ...server.config, application_name: 'mw-managed' }, maxConnections: 3 }),
    )
    const middleware = pgMiddleware({ db, setToContext: true })
    const contexts = [lambdaContext(), lambdaContext(), lambdaContext()] as PgContext[]
    await Promise.all(contexts.map((context) => begin(middleware, context)))
    const pids = await Promise.all(
      contexts.map(async (context) => (await context.pg.query('SELECT pg_backend_pid() AS pid')).rows[0].pid),
    )
    expect(new Set(pids).size).toBe(3)
    await contexts[0]?.pg.query('BEGIN')
    expect(await server.connectionCount({ applicationName: 'mw-managed' })).toBe(3)

    const fourth = lambdaContext() as PgContext
    let started = false
    const waiting = Promise.resolve(begin(middleware, fourth)).then(() => {
      started = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect(started).toBe(false)
    await end(middleware, contexts[0]!)
    await waiting
    expect(fourth.pg).toBe(contexts[0]!.pg)
    expect(log.of('pg.rollback')).toHaveLength(1)
    expect((await fourth.pg.query('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pids[0])
    await Promise.all([fourth, contexts[1]!, contexts[2]!].map((context) => end(middleware, context)))
  })

  it('when the server refuses more connections (53300), waits for one of the process, and closes idle ones after idleTimeout', async () => {
    await server.admin.query(`ALTER ROLE "${server.config.user}" CONNECTION LIMIT 3`)
    try {
      const db = track(
        pgConnection({
          config: { ...server.config, application_name: 'mw-limit' },
          maxConnections: 8,
          idleTimeout: 50,
        }),
      )
      const middleware = pgMiddleware({ db, setToContext: true })
      const handler = middy(async (_: unknown, context: PgContext) => {
        const { rows } = await context.pg.query('SELECT pg_backend_pid() AS pid, pg_sleep(0.05)')
        return rows[0].pid as number
      }).use(middleware)
      const pids = await Promise.all(Array.from({ length: 8 }, () => handler({}, lambdaContext(10_000))))
      expect(pids).toHaveLength(8)
      while ((await server.connectionCount({ applicationName: 'mw-limit' })) !== 1) {
        await new Promise((resolve) => setImmediate(resolve))
      }
      expect(log.of('pg.close-idle').length).toBeGreaterThanOrEqual(1)
    } finally {
      await server.admin.query(`ALTER ROLE "${server.config.user}" CONNECTION LIMIT -1`)
    }
  })

  it('closes free connections idle past idleTimeout, all but the one in use', async () => {
    const clock = fakeClock()
    const db = track(
      pgConnection({
        config: { ...server.config, application_name: 'mw-sweep' },
        maxConnections: 3,
        idleTimeout: '1m',
        clock,
      }),
    )
    const middleware = pgMiddleware({ db, setToContext: true })
    const contexts = [lambdaContext(), lambdaContext(), lambdaContext()]
    await Promise.all(contexts.map((context) => begin(middleware, context)))
    await Promise.all(contexts.map((context) => pidOf(context)))
    await end(middleware, contexts[1]!)
    await end(middleware, contexts[2]!)
    const pool = invocationScope(db) as ConnectionPool
    pool.sweep()
    expect(log.of('pg.close-idle')).toHaveLength(0)
    clock.advance('2m')
    pool.sweep()
    expect(log.of('pg.close-idle')).toHaveLength(2)
    while ((await server.connectionCount({ applicationName: 'mw-sweep' })) !== 1) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    await end(middleware, contexts[0]!)
  })

  it('gives a place back once when an invocation is ended twice at once', async () => {
    const db = track(
      pgConnection({ config: { ...server.config, application_name: 'mw-twice' }, maxConnections: 2 }),
    )
    const middleware = pgMiddleware({ db, setToContext: true })
    const [a, b, c, d] = [lambdaContext(), lambdaContext(), lambdaContext(), lambdaContext()] as PgContext[]
    await Promise.all([begin(middleware, a!), begin(middleware, b!)])
    await a!.pg.query('BEGIN')
    const started: PgContext[] = []
    const waiting = [c!, d!].map((context) =>
      Promise.resolve(begin(middleware, context)).then(() => started.push(context)),
    )
    await Promise.all([end(middleware, a!), end(middleware, a!)])
    await waiting[0]
    await new Promise((resolve) => setImmediate(resolve))
    expect(started).toEqual([c])
    await end(middleware, b!)
    await waiting[1]
    expect(started).toEqual([c, d])
    expect(new Set([c!.pg, d!.pg]).size).toBe(2)
    await Promise.all([end(middleware, c!), end(middleware, d!)])
  })

  it('an invocation that gave up waiting takes no other waiter out of the queue', async () => {
    const db = track(
      pgConnection({
        config: { ...server.config, application_name: 'mw-give-up' },
        maxConnections: 2,
        deadlineMargin: 100,
      }),
    )
    const middleware = pgMiddleware({ db, setToContext: true })
    const [a, b] = [lambdaContext(), lambdaContext()] as PgContext[]
    await Promise.all([begin(middleware, a!), begin(middleware, b!)])
    // Out of time after 100 ms of waiting; the next one has seconds.
    const impatient = Promise.resolve(begin(middleware, lambdaContext(200))).catch((e: unknown) => e)
    const patient = lambdaContext(2_000) as PgContext
    const waiting = Promise.resolve(begin(middleware, patient)).catch((e: unknown) => e)
    expect(await impatient).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'too-many-connections' })
    await end(middleware, a!)
    expect(await waiting).toBeUndefined()
    expect(patient.pg).toBe(a!.pg)
    await Promise.all([end(middleware, patient), end(middleware, b!)])
  })

  it('end() fails an invocation waiting for a connection, and hands nobody a connection after it', async () => {
    const db = track(
      pgConnection({ config: { ...server.config, application_name: 'mw-end-waiting' }, maxConnections: 2 }),
    )
    const middleware = pgMiddleware({ db, setToContext: true })
    const [a, b] = [lambdaContext(), lambdaContext()] as PgContext[]
    await Promise.all([begin(middleware, a!), begin(middleware, b!)])
    const waiting = Promise.resolve(begin(middleware, lambdaContext())).catch((e: unknown) => e)
    await db.end()
    // The invocations that held the connections end after end(): their places go to nobody.
    await Promise.all([end(middleware, a!), end(middleware, b!)])
    expect(await waiting).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'ended' })
    expect(log.of('pg.connect')).toHaveLength(2)
    while ((await server.connectionCount({ applicationName: 'mw-end-waiting' })) !== 0) {
      await new Promise((resolve) => setImmediate(resolve))
    }
  })

  it('after end(), still closes the connections a later burst leaves idle', async () => {
    const db = track(
      pgConnection({
        config: { ...server.config, application_name: 'mw-end-sweep' },
        maxConnections: 2,
        idleTimeout: 50,
      }),
    )
    const middleware = pgMiddleware({ db, setToContext: true })
    const burst = async () => {
      const contexts = [lambdaContext(), lambdaContext()]
      await Promise.all(contexts.map((context) => begin(middleware, context)))
      await Promise.all(contexts.map((context) => end(middleware, context)))
    }
    await burst()
    await db.end()
    await burst()
    await log.next('pg.close-idle')
    expect(log.of('pg.close-idle')).toMatchObject([{ open: 1 }])
  })

  it('gives a free place whose connection died a new connection', async () => {
    const db = track(
      pgConnection({ config: { ...server.config, application_name: 'mw-free-dead' }, maxConnections: 2 }),
    )
    trackInvocation({ awsRequestId: 'free-dead-a' })
    const first = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid
    const dead = log.next('pg.dead')
    await server.terminateBackends({ applicationName: 'mw-free-dead' })
    await dead
    trackInvocation({ awsRequestId: 'free-dead-b' })
    expect((await db.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid).not.toBe(first)
    expect(await server.connectionCount({ applicationName: 'mw-free-dead' })).toBe(1)
  })

  it('outside pgMiddleware, a query holds a connection only while it runs or while its transaction is open', async () => {
    const db = track(
      pgConnection({ config: { ...server.config, application_name: 'mw-implicit' }, maxConnections: 2 }),
    )
    trackInvocation({ awsRequestId: 'implicit-a' })
    await db.query('BEGIN')
    const pidA = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid
    trackInvocation({ awsRequestId: 'implicit-b' })
    const pidB = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid
    expect(pidB).not.toBe(pidA)
    trackInvocation({ awsRequestId: 'implicit-c' })
    expect((await db.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid).toBe(pidB)
    trackInvocation({ awsRequestId: 'implicit-a' })
    await db.query('COMMIT')
    await expect(db.client()).rejects.toMatchObject({ code: 'ERR_PG_NO_INVOCATION' })
  })

  // A handler that throws inside a transaction, outside pgMiddleware, never gives its connection
  // back: each one kept a connection of the process for good, until none was left.
  it("outside pgMiddleware, an invocation's connection left in a transaction is taken back once its time is up", async () => {
    const db = track(
      pgConnection({
        config: { ...server.config, application_name: 'mw-left-open' },
        maxConnections: 2,
        deadlineMargin: '50ms',
      }),
    )
    const invocation = (requestId: string, remainingMs: number) =>
      trackInvocation(contextDouble({ requestId, remainingMs }))
    const ended = invocation('left-open-a', 400)
    await db.query('BEGIN')
    await db.query('INSERT INTO orders VALUES (901)')
    // ... and the handler threw: nobody commits or rolls back.
    invocation('left-open-b', 30_000)
    await db.query('BEGIN')
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (ended.deadline ?? 0) - Date.now()) + 20))
    invocation('left-open-c', 3_000)
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    expect(log.types()).toContain('pg.rollback')
    expect(
      (await server.admin.query('SELECT count(*)::int AS n FROM orders WHERE id = 901')).rows[0]?.n,
    ).toBe(0)
    expect(await server.connectionCount({ applicationName: 'mw-left-open' })).toBe(2)
    invocation('left-open-b', 30_000)
    await db.query('COMMIT')
  })

  it('a query waiting for a connection gets the one an ended invocation left in a transaction', async () => {
    const db = track(
      pgConnection({
        config: { ...server.config, application_name: 'mw-left-waiting' },
        maxConnections: 2,
        deadlineMargin: '50ms',
      }),
    )
    const invocation = (requestId: string, remainingMs: number) =>
      trackInvocation(contextDouble({ requestId, remainingMs }))
    invocation('left-waiting-a', 400)
    await db.query('BEGIN')
    invocation('left-waiting-b', 30_000)
    await db.query('BEGIN')
    // Both connections held: this one waits, and gets a's once a's time is up (not c's own deadline).
    invocation('left-waiting-c', 3_000)
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    invocation('left-waiting-b', 30_000)
    await db.query('COMMIT')
  })
  // An invocation whose deadline warmstart never saw (no warmstart middleware in the chain) that
  // threw inside a transaction kept its connection until db.end(): Lambda's longest timeout bounds it.
  it('outside every warmstart middleware, a connection left in a transaction is taken back after the longest an invocation runs', async () => {
    const db = track(
      pgConnection({
        config: { ...server.config, application_name: 'mw-left-unseen' },
        maxConnections: 2,
        deadlineMargin: '50ms',
      }),
    )
    trackInvocation({ awsRequestId: 'left-unseen-a' })
    await db.query('BEGIN')
    await db.query('INSERT INTO orders VALUES (902)')
    trackInvocation({ awsRequestId: 'left-unseen-b' })
    await db.query('BEGIN')
    const now = performance.now.bind(performance)
    const later = vi.spyOn(performance, 'now').mockImplementation(() => now() + 15 * 60_000 + 1_000)
    try {
      trackInvocation(contextDouble({ requestId: 'left-unseen-c', remainingMs: 1_000 }))
      expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      expect(log.types()).toContain('pg.rollback')
      expect(
        (await server.admin.query('SELECT count(*)::int AS n FROM orders WHERE id = 902')).rows[0]?.n,
      ).toBe(0)
    } finally {
      later.mockRestore()
    }
  })
})
