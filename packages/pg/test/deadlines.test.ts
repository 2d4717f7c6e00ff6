import middy from '@middy/core'
import { ConnectError, type PgConnection, pgConnection, pgMiddleware, QueryTimeoutError } from '@warmstart/pg'
import { startPostgres, type TestPostgres } from '@warmstart/testing'
import type { Context } from 'aws-lambda'
import type { Client } from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type EventLog, recordEvents } from './helpers/events.js'
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js'

let server: TestPostgres
let proxy: TcpProxy
let log: EventLog
const open: PgConnection[] = []
let request = 0
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
  request += 1
  const ends = Date.now() + budgetMs
  return {
    awsRequestId: `deadline-${request}`,
    functionName: 'deadlines',
    getRemainingTimeInMillis: () => ends - Date.now(),
  } as PgContext
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

function nextApplication(): string {
  app += 1
  return `deadline-${app}`
}

describe('statement deadlines', () => {
  it('a hung statement ends with QueryTimeoutError before the function times out, cancelled on the server; the next invocation gets the idle connection', async () => {
    log = recordEvents()
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
    log = recordEvents()
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
