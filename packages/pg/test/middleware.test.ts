import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import middy from '@middy/core'
import { type LambdaContextLike, trackInvocation } from '@warmstart/core'
import { type ParamsOf, paramsMiddleware, secretsManager } from '@warmstart/params'
import { type PgConnection, pgConnection, pgMiddleware } from '@warmstart/pg'
import { type LocalAws, startLocalAws, startPostgres, type TestPostgres } from '@warmstart/testing'
import type { Context } from 'aws-lambda'
import type { Client } from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type EventLog, recordEvents } from './helpers/events.js'

let server: TestPostgres
let aws: LocalAws
let log: EventLog
const open: PgConnection[] = []
let request = 0

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
  log = recordEvents()
})

afterEach(async () => {
  log.stop()
  await Promise.all(open.splice(0).map((db) => db.end()))
})

/** What Lambda passes in; typed as the chain's context, whose extra keys the middlewares fill in. */
function lambdaContext<C extends Context = Context>(remainingMs = 30_000): C {
  request += 1
  return {
    awsRequestId: `mw-${request}`,
    functionName: 'orders',
    getRemainingTimeInMillis: () => remainingMs,
  } as C
}

function track(db: PgConnection): PgConnection {
  open.push(db)
  return db
}

type PgContext = Context & { pg: Client }

describe('pgMiddleware in a real Middy chain', () => {
  it('gets credentials from the params middleware, and survives a password rotation without a failed invocation', async () => {
    const secrets = secretsManager({ client: new SecretsManagerClient({ ...aws.clientConfig }), ttl: '1h' })
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
  })

  it('does nothing when it ends an invocation it never started', async () => {
    const db = track(pgConnection({ config: server.config }))
    const middleware = pgMiddleware({ db })
    await middleware.after?.({ event: {}, context: lambdaContext(), response: undefined, error: undefined })
    expect(log.events).toHaveLength(0)
  })
})

describe('Lambda Managed Instances: one connection per invocation in flight', () => {
  type PgMiddleware = ReturnType<typeof pgMiddleware>
  function begin(middleware: PgMiddleware, context: LambdaContextLike) {
    return middleware.before!({ event: {}, context, response: undefined, error: undefined })
  }
  function end(middleware: PgMiddleware, context: LambdaContextLike) {
    return middleware.after!({ event: {}, context, response: undefined, error: undefined })
  }

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
})
