import middy from '@middy/core'
import { systemClock } from '@warmstart/core'
import { ConnectError, type PgConnection, pgConnection, pgMiddleware, QueryTimeoutError } from '@warmstart/pg'
import { startPostgres, type TestPostgres } from '@warmstart/testing'
import { lambdaContext as contextDouble, type EventRecorder, recordEvents } from '@warmstart/testing/doubles'
import type { Context } from 'aws-lambda'
import type { Client } from 'pg'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { sendCancelRequest } from '../src/cancel.js'
import { LiveConnection } from '../src/live-connection.js'
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js'

let server: TestPostgres
let proxy: TcpProxy
let log: EventRecorder
const open: PgConnection[] = []
let app = 0

beforeAll(async () => {
  server = await startPostgres()
  proxy = await startTcpProxy(server.config)
})

afterAll(async () => {
  await proxy?.close()
  await server?.stop()
})

afterEach(async () => {
  log?.stop()
  await Promise.all(open.splice(0).map((db) => db.end()))
  await proxy.listen().catch(() => undefined)
})

type PgContext = Context & { pg: Client }

/** A context whose remaining time runs down with the wall clock, as Lambda's does. */
function invocationContext(budgetMs: number): PgContext {
  return contextDouble({ remainingMs: budgetMs, functionName: 'deadlines' }) as PgContext
}

function connect(application: string, options: { port?: number; deadlineMargin?: number } = {}) {
  const db = pgConnection({
    config: {
      ...server.config,
      host: '127.0.0.1',
      port: options.port ?? proxy.port,
      application_name: application,
    },
    validateTimeout: 1_000,
    ...(options.deadlineMargin === undefined ? {} : { deadlineMargin: options.deadlineMargin }),
  })
  open.push(db)
  return db
}

/** Statements of `application` the server is still running (pg_stat_activity), other than idle ones. */
async function running(application: string): Promise<string[]> {
  const { rows } = await server.admin.query<{ query: string }>(
    "SELECT query FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'",
    [application],
  )
  return rows.map((row) => row.query)
}

/** Waits (on the server's own view, not a timer) until the server runs a pg_sleep of `application`. */
async function untilSleeping(application: string): Promise<void> {
  while (!(await running(application)).some((query) => query.includes('pg_sleep'))) {
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Waits (on the server's own view) until a statement of `application` waits for a lock. */
async function untilWaitingOnLock(application: string): Promise<void> {
  for (;;) {
    const { rows } = await server.admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
      [application],
    )
    if (rows[0]!.n > 0) return
    await new Promise((resolve) => setImmediate(resolve))
  }
}

function nextApplication(): string {
  app += 1
  return `deadline-${app}`
}

describe('statement deadlines', () => {
  it('a hung statement ends with QueryTimeoutError before the function times out, cancelled on the server; the next invocation gets the idle connection', async () => {
    log = recordEvents('pg.')
    const application = nextApplication()
    const db = connect(application)
    const handler = middy(async (event: { sql: string }, context: PgContext) => {
      const { rows } = await context.pg.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      await context.pg.query(event.sql)
      return rows[0]!.pid
    }).use(pgMiddleware({ db, setToContext: true }))

    const hung = invocationContext(3_000)
    const error = await handler({ sql: 'SELECT pg_sleep(20)' }, hung).catch((e: unknown) => e)
    // Ended with time to spare: the function never reached its timeout.
    expect(hung.getRemainingTimeInMillis()).toBeGreaterThan(0)
    expect(error).toBeInstanceOf(QueryTimeoutError)
    expect(error).toMatchObject({ code: 'ERR_PG_QUERY_TIMEOUT', connection: 'pg', outcome: 'cancelled' })
    expect((error as Error).message).not.toContain('pg_sleep')
    expect(log.of('pg.cancel')).toMatchObject([{ outcome: 'cancelled' }])
    // Nothing of the first invocation still runs on the server.
    expect(await running(application)).toEqual([])

    const pids = []
    for (let i = 0; i < 6; i++) pids.push(await handler({ sql: 'SELECT 1' }, invocationContext(3_000)))
    // The same connection, proven idle by the cancel's ReadyForQuery: kept, not replaced.
    expect(new Set(pids).size).toBe(1)
    expect(log.of('pg.connect')).toHaveLength(1)
  })

  it('db.query inside an invocation runs under the same deadline', async () => {
    const application = nextApplication()
    const db = connect(application, { deadlineMargin: 200 })
    const handler = middy(async () => db.query('SELECT pg_sleep(20)')).use(pgMiddleware({ db }))
    const context = invocationContext(1_000)
    await expect(handler({}, context)).rejects.toMatchObject({
      code: 'ERR_PG_QUERY_TIMEOUT',
      outcome: 'cancelled',
    })
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0)
    expect(await running(application)).toEqual([])
    const next = middy(async () => (await db.query<{ one: number }>('SELECT 1 AS one')).rows).use(
      pgMiddleware({ db }),
    )
    expect(await next({}, invocationContext(1_000))).toEqual([{ one: 1 }])
  })

  it('a flow dropped silently mid-statement ends before the timeout: the statement is cancelled, the connection discarded', async () => {
    log = recordEvents('pg.')
    const application = nextApplication()
    const db = connect(application)
    const handler = middy(async (event: { sql: string }, context: PgContext) => {
      return (await context.pg.query<{ pid: number }>(event.sql)).rows[0]?.pid
    }).use(pgMiddleware({ db, setToContext: true }))
    const first = await handler({ sql: 'SELECT pg_backend_pid() AS pid' }, invocationContext(3_000))

    const dropped = invocationContext(3_000)
    const pending = handler({ sql: 'SELECT pg_sleep(20)' }, dropped).catch((e: unknown) => e)
    await untilSleeping(application)
    proxy.dropExistingFlows()
    const error = await pending
    expect(dropped.getRemainingTimeInMillis()).toBeGreaterThan(0)
    expect(error).toMatchObject({ code: 'ERR_PG_QUERY_TIMEOUT', outcome: 'discarded' })
    // The cancel went on a connection of its own and landed, though no answer came back on the old flow.
    expect(await running(application)).toEqual([])

    const next = await handler({ sql: 'SELECT pg_backend_pid() AS pid' }, invocationContext(3_000))
    expect(next).not.toBe(first)
    expect(log.of('pg.cancel')).toMatchObject([{ outcome: 'discarded' }])
  })

  it('a statement the handler left running is stopped before the next invocation gets the connection', async () => {
    const application = nextApplication()
    const db = connect(application)
    const handler = middy(async (event: { leave: boolean }, context: PgContext) => {
      if (event.leave) {
        // Not awaited: the invocation ends while the statement runs.
        context.pg.query('SELECT pg_sleep(20)').catch(() => undefined)
        await untilSleeping(application)
        return 0
      }
      return (await context.pg.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one
    }).use(pgMiddleware({ db, setToContext: true }))
    await handler({ leave: true }, invocationContext(30_000))
    expect(await running(application)).toEqual([])
    expect(await handler({ leave: false }, invocationContext(30_000))).toBe(1)
  })

  it("a user's own statement_timeout passes through as the server's error, and the connection is kept", async () => {
    const application = nextApplication()
    const db = connect(application)
    const handler = middy(async (_: unknown, context: PgContext) => {
      await context.pg.query("SET statement_timeout = '50ms'")
      const error = await context.pg.query('SELECT pg_sleep(20)').catch((e: unknown) => e)
      await context.pg.query('RESET statement_timeout')
      return (error as { code?: string }).code
    }).use(pgMiddleware({ db, setToContext: true }))
    expect(await handler({}, invocationContext(10_000))).toBe('57014')
    expect(await handler({}, invocationContext(10_000))).toBe('57014')
  })
})

describe('cancelling', () => {
  it('closes the connection when the cancel cannot even be sent (the server refuses new connections)', async () => {
    log = recordEvents('pg.')
    const application = nextApplication()
    const db = connect(application)
    const handler = middy(async (_: unknown, context: PgContext) => {
      const statement = context.pg.query('SELECT pg_sleep(5)')
      await untilSleeping(application)
      await proxy.refuse()
      return statement
    }).use(pgMiddleware({ db, setToContext: true }))
    await expect(handler({}, invocationContext(2_000))).rejects.toMatchObject({
      code: 'ERR_PG_QUERY_TIMEOUT',
      outcome: 'discarded',
    })
    // The socket is closed: with no cancel, the statement runs to its end, and the server ends the
    // session when it finds the socket closed then.
    while ((await running(application)).length > 0) await new Promise((resolve) => setImmediate(resolve))
    expect(log.of('pg.dead')[0]!.reason).toBe('statement still running and the cancel could not be sent')
  })

  it("a statement that completes while its cancel is on the way: the caller gets its result, and the late cancel never hits the next invocation's statement", async () => {
    const application = nextApplication()
    // A 100 ms deadline; half the margin, 750 ms, for the cancel's confirmation.
    const db = connect(application, { deadlineMargin: 1_500 })
    const handler = middy(async (event: { sql: string }, context: PgContext) => {
      return (await context.pg.query(event.sql)).rows
    }).use(pgMiddleware({ db, setToContext: true }))
    const locker = new pg.Client(server.config)
    await locker.connect()
    try {
      await locker.query('SELECT pg_advisory_lock(7)')
      const held = proxy.holdCancels()
      const first = handler(
        { sql: 'SELECT pg_advisory_xact_lock(7), 42 AS answer' },
        invocationContext(1_600),
      ).catch((e: unknown) => e)
      await held
      // The deadline passed and the cancel is on its way; the statement completes before it lands.
      await locker.query('SELECT pg_advisory_unlock(7)')
      const firstOutcome = await first

      await locker.query('SELECT pg_advisory_lock(7)')
      const second = handler({ sql: 'SELECT pg_advisory_xact_lock(7), 1 AS n' }, invocationContext(30_000))
      await untilWaitingOnLock(application)
      // The first invocation's cancel reaches the server now, while the next invocation's statement runs.
      await proxy.releaseCancels()
      await locker.query('SELECT pg_advisory_unlock(7)')
      expect(await second.catch((e: unknown) => e)).toMatchObject([{ n: 1 }])
      expect(firstOutcome).toMatchObject([{ answer: 42 }])
    } finally {
      await proxy.releaseCancels()
      await locker.end()
    }
  })

  it('a LiveConnection with nothing in flight has nothing to interrupt; a dead one is discarded', async () => {
    const client = new pg.Client({ ...server.config })
    await client.connect()
    const live = new LiveConnection(client, {
      name: 'unit',
      clock: systemClock,
      logger: undefined,
      cancelWait: 100,
    })
    expect(await live.interrupt()).toBe('cancelled')
    await live.quiet(100)
    // A Submittable passes through as pg returns it, and is counted until its ReadyForQuery.
    let ready!: () => void
    const done = new Promise<void>((resolve) => {
      ready = resolve
    })
    const submittable = {
      submit: (connection: { query(text: string): void }) => connection.query('SELECT 1'),
      handleRowDescription: () => undefined,
      handleDataRow: () => undefined,
      handleCommandComplete: () => undefined,
      handleError: () => undefined,
      handleReadyForQuery: () => ready(),
    }
    live.deadline = performance.now() + 10_000
    expect(client.query(submittable as never)).toBe(submittable)
    expect(live.busy).toBe(true)
    await done
    expect(live.busy).toBe(false)
    live.markDead('unit')
    expect(await live.interrupt()).toBe('discarded')
    await client.end().catch(() => undefined)
  })

  it('sendCancelRequest reports what it could not do, and never rejects', async () => {
    const target = { host: '127.0.0.1', port: proxy.port, processID: 1, secretKey: 2 }
    expect(await sendCancelRequest({ ...target, processID: null }, 100)).toBe(false)
    expect(await sendCancelRequest({ ...target, host: '/nonexistent-dir' }, 100)).toBe(false)
    expect(await sendCancelRequest({ ...target, host: '10.255.255.1' }, 30)).toBe(false)
    // A key the server does not know: it is sent, and the server ignores it.
    expect(await sendCancelRequest(target, 1_000)).toBe(true)
  })

  it('callback and Submittable forms of client.query pass through; what they leave running is stopped at the end', async () => {
    const application = nextApplication()
    const db = connect(application)
    const handler = middy(async (event: { leave: boolean }, context: PgContext) => {
      const one = await new Promise<number>((resolve, reject) =>
        context.pg.query<{ one: number }>('SELECT 1 AS one', (error, result) =>
          error ? reject(error) : resolve(result.rows[0]!.one),
        ),
      )
      if (event.leave) {
        context.pg.query('SELECT pg_sleep(20)', [], () => undefined)
        await untilSleeping(application)
      }
      return one
    }).use(pgMiddleware({ db, setToContext: true }))
    expect(await handler({ leave: true }, invocationContext(30_000))).toBe(1)
    expect(await running(application)).toEqual([])
    expect(await handler({ leave: false }, invocationContext(30_000))).toBe(1)
  })
})

describe('Managed Instances: waiting for a connection of the process', () => {
  it('gives up at the deadline with too-many-connections when every connection stays busy', async () => {
    const application = nextApplication()
    await server.admin.query(`ALTER ROLE "${server.config.user}" CONNECTION LIMIT 1`)
    try {
      const db = pgConnection({
        config: { ...server.config, application_name: application },
        maxConnections: 2,
        deadlineMargin: 100,
      })
      open.push(db)
      const middleware = pgMiddleware({ db, setToContext: true })
      const holder = invocationContext(30_000)
      await middleware.before?.({ event: {}, context: holder, response: undefined, error: undefined })
      const waiter = invocationContext(800)
      const error = await Promise.resolve(
        middleware.before?.({ event: {}, context: waiter, response: undefined, error: undefined }),
      ).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'too-many-connections', outOfTime: true })
      expect(waiter.getRemainingTimeInMillis()).toBeGreaterThan(0)
      await middleware.after?.({ event: {}, context: holder, response: undefined, error: undefined })
    } finally {
      await server.admin.query(`ALTER ROLE "${server.config.user}" CONNECTION LIMIT -1`)
    }
  })
})

describe('reconnecting until the deadline', () => {
  it('a server unreachable for 1.5 s inside a 10 s invocation: the invocation succeeds', async () => {
    const application = nextApplication()
    const db = connect(application)
    const handler = middy(async (_: unknown, context: PgContext) => {
      return (await context.pg.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one
    }).use(pgMiddleware({ db, setToContext: true }))
    expect(await handler({}, invocationContext(10_000))).toBe(1)
    await server.terminateBackends({ applicationName: application })
    await proxy.refuse()
    const back = new Promise((resolve) => setTimeout(resolve, 1_500)).then(() => proxy.listen())
    let failed = 0
    for (let i = 0; i < 3; i++) {
      const result = await handler({}, invocationContext(10_000)).catch(() => {
        failed += 1
      })
      if (result === 1) await back
    }
    expect(failed).toBe(0)
  })

  it('stops retrying at the deadline, with the reason of the last failure', async () => {
    await proxy.refuse()
    const db = connect(nextApplication(), { deadlineMargin: 100 })
    const handler = middy(async (_: unknown, context: PgContext) => context.pg.query('SELECT 1')).use(
      pgMiddleware({ db, setToContext: true }),
    )
    const context = invocationContext(600)
    const error = await handler({}, context).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConnectError)
    expect(error).toMatchObject({ reason: 'unreachable', outOfTime: true })
    expect((error as ConnectError).attempts).toBeGreaterThan(1)
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0)
  })

  it.each([
    [
      'a password holding #',
      (c: TestPostgres['config']) => `postgres://${c.user}:pa#ss@127.0.0.1:${c.port}/${c.database}`,
    ],
    [
      'a password holding ? and /',
      (c: TestPostgres['config']) => `postgres://${c.user}:p?a/ss@127.0.0.1:${c.port}/${c.database}`,
    ],
  ])(
    'fails a connection string with %s at once as a typed config error, never retried, never echoing it',
    async (_, url) => {
      const db = pgConnection({ config: url(server.config) })
      open.push(db)
      const context = invocationContext(10_000)
      const handler = middy(async () => db.query('SELECT 1')).use(pgMiddleware({ db }))
      const error = await handler({}, context).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'config', attempts: 1 })
      expect((error as Error).message).not.toMatch(/pa#ss|p\?a\/ss/)
    },
  )

  it('bounds a config provider that never settles by the invocation deadline', async () => {
    const db = pgConnection({ config: () => new Promise<never>(() => undefined), deadlineMargin: 100 })
    open.push(db)
    const handler = middy(async () => db.query('SELECT 1')).use(pgMiddleware({ db }))
    const context = invocationContext(400)
    const error = await handler({}, context).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'config', outOfTime: true })
    expect((error as Error).message).toMatch(/config provider did not settle/)
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0)
  })

  it('fails a missing password at once as config', async () => {
    const { password: _, ...withoutPassword } = server.config
    const db = pgConnection({ config: { ...withoutPassword, host: '127.0.0.1' } })
    open.push(db)
    const handler = middy(async () => db.query('SELECT 1')).use(pgMiddleware({ db }))
    await expect(handler({}, invocationContext(10_000))).rejects.toMatchObject({
      code: 'ERR_PG_CONNECT',
      reason: 'config',
      attempts: 1,
    })
  })
})
