import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { startPostgres, type TestPostgres } from '@warmstart/testing'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'

/** A connected client of the test's own role; its connection errors are awaited with nextError(). */
async function clientOf(
  db: TestPostgres,
  applicationName: string,
  overrides: Partial<pg.ClientConfig> = {},
): Promise<pg.Client> {
  const client = new pg.Client({ ...db.config, application_name: applicationName, ...overrides })
  client.on('error', () => undefined)
  opened.push(client)
  await client.connect()
  return client
}

const opened: pg.Client[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((client) => client.end().catch(() => undefined)))
})

function nextError(client: pg.Client): Promise<Error & { code?: string }> {
  return once(client, 'error').then(([error]) => error as Error & { code?: string })
}

async function loginFails(config: pg.ClientConfig): Promise<Error & { code?: string }> {
  const client = new pg.Client(config)
  client.on('error', () => undefined)
  const error = await client.connect().then(
    () => undefined,
    (caught: Error) => caught,
  )
  await client.end().catch(() => undefined)
  if (!error) throw new Error('the connection was accepted')
  return error
}

describe('startPostgres() on the shared server', () => {
  let db: TestPostgres
  beforeAll(async () => {
    db = await startPostgres()
  })
  afterAll(() => db.stop())

  test('uses the server of the global setup, which the vitest fork inherited', () => {
    const shared = new URL((process.env.DATABASE_URL || process.env.WARMSTART_TEST_DATABASE_URL) as string)
    expect(db.config.port).toBe(Number(shared.port || 5432))
    expect(db.url).toBe(
      `postgres://${db.config.user}:${db.config.password}@${db.config.host}:${db.config.port}/${db.config.database}`,
    )
  })

  test('terminateBackends kills only the matching backends, which see the real error', async () => {
    const victim = await clientOf(db, 'victim')
    const bystander = await clientOf(db, 'bystander')
    const error = nextError(victim)

    expect(await db.terminateBackends({ applicationName: 'victim' })).toBe(1)
    expect(await error).toMatchObject({
      code: '57P01',
      message: 'terminating connection due to administrator command',
    })
    expect(await db.connectionCount({ applicationName: 'victim' })).toBe(0)
    expect((await bystander.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    await expect(victim.query('SELECT 1')).rejects.toThrow(/not queryable/)
    const bystanderError = nextError(bystander)
    expect(await db.terminateBackends()).toBe(1)
    expect((await bystanderError).code).toBe('57P01')
    expect(await db.terminateBackends()).toBe(0)
    // The admin connection is never among the victims.
    expect((await db.admin.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  test('terminateBackends filters by user', async () => {
    const client = await clientOf(db, 'by-user')
    const error = nextError(client)
    expect(await db.terminateBackends({ user: 'someone_else' })).toBe(0)
    expect(await db.terminateBackends({ user: db.config.user })).toBe(1)
    expect((await error).code).toBe('57P01')
    expect(await db.connectionCount()).toBe(0)
  })

  test('connectionCount counts the test database client backends, admin excluded', async () => {
    expect(await db.connectionCount()).toBe(0)
    await clientOf(db, 'app-a')
    await clientOf(db, 'app-a')
    await clientOf(db, 'app-b')
    expect(await db.connectionCount()).toBe(3)
    expect(await db.connectionCount({ applicationName: 'app-a' })).toBe(2)
    expect(await db.connectionCount({ applicationName: 'app-b' })).toBe(1)
    expect(await db.connectionCount({ applicationName: 'app-c' })).toBe(0)
    expect(await db.connectionCount({ user: db.config.user, applicationName: 'app-b' })).toBe(1)
    expect(await db.connectionCount({ user: 'someone_else' })).toBe(0)
  })

  test('a filter that is not a string is rejected', async () => {
    const filter = { applicationName: 42 } as unknown as { applicationName: string }
    await expect(db.connectionCount(filter)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
    await expect(db.terminateBackends({ user: null } as unknown as { user: string })).rejects.toThrow(
      'terminateBackends: option "filter.user" must be a string, got null',
    )
  })

  test('setPassword: the old password fails with 28P01, the new one works', async () => {
    const oldPassword = db.config.password
    const before = await clientOf(db, 'before-rotation')
    await db.setPassword(db.config.user, 'rotated-secret-1')

    expect(await loginFails({ ...db.config, password: oldPassword })).toMatchObject({ code: '28P01' })
    const after = await clientOf(db, 'after-rotation', { password: 'rotated-secret-1' })
    expect((await after.query('SELECT current_user AS user')).rows).toEqual([{ user: db.config.user }])
    // A session opened before the rotation is not disturbed by it.
    expect((await before.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    await db.setPassword(db.config.user, oldPassword)
  })

  test('setPassword rejects bad arguments and reports an unknown role without the password', async () => {
    await expect(db.setPassword('', 'x')).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
    await expect(db.setPassword(db.config.user, '')).rejects.toThrow(
      'setPassword: option "password" must be a non-empty string',
    )
    const failure = await db.setPassword('no_such_role', 'hunter2-secret').catch((error: Error) => error)
    expect(failure).toMatchObject({ code: 'ERR_POSTGRES_SET_PASSWORD' })
    expect((failure as Error).message).toContain('no_such_role')
    expect((failure as Error).message).not.toContain('hunter2-secret')
  })

  test('the server cannot be restarted or stopped from a shared database', async () => {
    for (const method of ['restart', 'stopServer', 'startServer'] as const) {
      await expect(db[method]()).rejects.toMatchObject({
        code: 'ERR_NOT_DEDICATED',
        message: expect.stringContaining('startPostgres({ dedicated: true })'),
      })
    }
    expect((await db.admin.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  test('a bad option is rejected', async () => {
    await expect(startPostgres({ dedicated: 'yes' as unknown as boolean })).rejects.toThrow(
      'startPostgres: option "dedicated" must be a boolean, got "yes"',
    )
  })
})

describe('two startPostgres() calls', () => {
  test('get isolated databases and roles; stop() drops them', async () => {
    const [first, second] = await Promise.all([startPostgres(), startPostgres()])
    try {
      expect(first.config.database).not.toBe(second.config.database)
      expect(first.config.user).not.toBe(second.config.user)
      const firstClient = await clientOf(first, 'shared-app')
      const secondClient = await clientOf(second, 'shared-app')
      await firstClient.query('CREATE TABLE notes (body text)')
      await expect(secondClient.query('SELECT * FROM notes')).rejects.toMatchObject({ code: '42P01' })

      expect(await second.connectionCount()).toBe(1)
      expect(await first.terminateBackends({ applicationName: 'shared-app' })).toBe(1)
      expect((await secondClient.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])

      await first.stop()
      const { rows } = await second.admin.query(
        'SELECT (SELECT count(*)::int FROM pg_database WHERE datname = $1) AS databases, ' +
          '(SELECT count(*)::int FROM pg_roles WHERE rolname = $2) AS roles',
        [first.config.database, first.config.user],
      )
      expect(rows).toEqual([{ databases: 0, roles: 0 }])
      expect(await loginFails(first.config)).toBeInstanceOf(Error)
      await first.stop()
      await expect(first.connectionCount()).rejects.toMatchObject({ code: 'ERR_POSTGRES_STOPPED' })
      await expect(first.restart()).rejects.toMatchObject({ code: 'ERR_POSTGRES_STOPPED' })
      await expect(first.setPassword(first.config.user, 'x')).rejects.toMatchObject({
        code: 'ERR_POSTGRES_STOPPED',
      })
    } finally {
      await Promise.all([first.stop(), second.stop()])
    }
  })

  test('stop() disconnects clients still connected to the database', async () => {
    const db = await startPostgres()
    const client = await clientOf(db, 'left-open')
    const error = nextError(client)
    await db.stop()
    expect((await error).code).toBe('57P01')
  })
})

describe('startPostgres({ dedicated: true })', () => {
  let db: TestPostgres
  let dataDirectory: string
  beforeAll(async () => {
    db = await startPostgres({ dedicated: true })
    dataDirectory = (await db.admin.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!
      .data_directory
  })
  afterAll(() => db.stop())

  test('restart(): a client connected before sees its connection end; a new one connects after', async () => {
    const before = await clientOf(db, 'before-restart')
    const ended = new Promise((resolve) => before.once('end', resolve))
    const error = nextError(before)
    const port = db.config.port

    await db.restart()

    expect((await error).code).toBe('57P01')
    await ended
    expect(db.config.port).toBe(port)
    const after = await clientOf(db, 'after-restart')
    expect((await after.query('SELECT current_database() AS db')).rows).toEqual([{ db: db.config.database }])
    expect(await db.connectionCount({ applicationName: 'after-restart' })).toBe(1)
  })

  test('stopServer() refuses connections until startServer()', async () => {
    await db.stopServer()
    expect(await loginFails(db.config)).toMatchObject({ code: 'ECONNREFUSED' })
    await expect(db.connectionCount()).rejects.toMatchObject({ code: 'ERR_POSTGRES_SERVER_STOPPED' })

    await db.startServer()
    const client = await clientOf(db, 'after-start')
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    expect(await db.connectionCount()).toBe(1)
    // Starting a running server changes nothing.
    await db.startServer()
    expect(await db.connectionCount()).toBe(1)
  })

  test('stop() ends the server process and removes its directory', async () => {
    const pid = Number(readFileSync(join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0])
    expect(existsSync(dirname(dataDirectory))).toBe(true)
    await db.stop()
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }))
    expect(existsSync(dirname(dataDirectory))).toBe(false)
    expect(await loginFails(db.config)).toMatchObject({ code: 'ECONNREFUSED' })
  })
})
