import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { startPostgres } from '@warmstart/testing'
import setup from '@warmstart/testing/vitest-global-setup'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { describeServer } from '../src/postgres/server-url.js'
import { leaseSharedServer } from '../src/postgres/shared-server.js'

const VARIABLES = ['DATABASE_URL', 'WARMSTART_TEST_DATABASE_URL'] as const
const sharedUrl = (process.env.DATABASE_URL || process.env.WARMSTART_TEST_DATABASE_URL) as string

/** Runs `work` with DATABASE_URL and WARMSTART_TEST_DATABASE_URL set as given, then puts them back. */
async function withEnvironment(
  values: Partial<Record<(typeof VARIABLES)[number], string>>,
  work: () => Promise<void>,
) {
  const saved = VARIABLES.map((name) => [name, process.env[name]] as const)
  for (const name of VARIABLES) {
    if (values[name] === undefined) delete process.env[name]
    else process.env[name] = values[name]
  }
  try {
    await work()
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => undefined)
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

async function refused(url: string): Promise<string | undefined> {
  return query(url, 'SELECT 1').then(
    () => undefined,
    (error: NodeJS.ErrnoException) => error.code,
  )
}

/** A URL on a port where nothing listens. */
async function deadUrl(password: string): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return `postgres://postgres:${password}@127.0.0.1:${port}/postgres`
}

test('server URLs are described without their password, with the default port when none is given', () => {
  expect(describeServer('postgres://app:hunter2-secret@db.internal/orders')).toBe('db.internal:5432/orders')
  expect(describeServer('postgres://app:hunter2-secret@db.internal:6432/orders')).toBe(
    'db.internal:6432/orders',
  )
})

describe('the vitest global setup', () => {
  test('starts one server, hands it over in WARMSTART_TEST_DATABASE_URL, and removes it all on teardown', async () => {
    await withEnvironment({}, async () => {
      const teardown = await setup()
      const url = process.env.WARMSTART_TEST_DATABASE_URL as string
      expect(url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres$/)
      const [row] = await query(url, 'SHOW data_directory')
      const dataDirectory = row?.data_directory as string
      expect(existsSync(dataDirectory)).toBe(true)

      await teardown()
      expect(process.env.WARMSTART_TEST_DATABASE_URL).toBeUndefined()
      expect(await refused(url)).toBe('ECONNREFUSED')
      expect(existsSync(dataDirectory.replace(/\/data$/, ''))).toBe(false)
    })
  })

  test('uses DATABASE_URL instead when it is set, and leaves that server alone', async () => {
    await withEnvironment({ DATABASE_URL: sharedUrl }, async () => {
      const teardown = await setup()
      expect(process.env.WARMSTART_TEST_DATABASE_URL).toBeUndefined()
      await teardown()
      expect(await query(sharedUrl, 'SELECT 1 AS one')).toEqual([{ one: 1 }])
    })
  })

  test('fails clearly, without the password, when DATABASE_URL cannot be reached', async () => {
    const url = await deadUrl('hunter2-secret')
    await withEnvironment({ DATABASE_URL: url }, async () => {
      const failure = await setup().catch((error: Error) => error)
      expect(failure).toMatchObject({ code: 'ERR_POSTGRES_CONNECT' })
      expect((failure as Error).message).toContain(
        `cannot connect to PostgreSQL at ${new URL(url).host}/postgres`,
      )
      expect((failure as Error).message).not.toContain('hunter2-secret')
    })
  })
})

describe('startPostgres() outside the vitest global setup', () => {
  test('starts one server for the process, shared by its callers and stopped after the last stop()', async () => {
    await withEnvironment({}, async () => {
      const missing = { initdb: '/nowhere/initdb', postgres: '/nowhere/postgres' }
      await expect(leaseSharedServer({ binaries: missing, runAs: {} })).rejects.toMatchObject({
        code: 'ERR_POSTGRES_BINARIES',
      })
      // The failed start is not kept: the next caller gets a server.
      const first = await startPostgres()
      const second = await startPostgres()
      expect(second.config.port).toBe(first.config.port)
      expect(second.config.database).not.toBe(first.config.database)

      await first.stop()
      expect(await query(second.url, 'SELECT current_user AS user')).toEqual([{ user: second.config.user }])
      await second.stop()
      expect(await refused(second.url)).toBe('ECONNREFUSED')
    })
  })

  test('with a DATABASE_URL whose login fails: a clear error without the password', async () => {
    const [user] = await query(sharedUrl, 'SELECT current_user AS name')
    const wrong = new URL(sharedUrl)
    wrong.password = 'wrong-secret-password'
    await withEnvironment({ DATABASE_URL: wrong.toString() }, async () => {
      const failure = await startPostgres().catch((error: Error) => error)
      expect(failure).toMatchObject({ code: 'ERR_POSTGRES_CONNECT' })
      expect((failure as Error).message).toContain(`password authentication failed for user "${user?.name}"`)
      expect((failure as Error).message).not.toContain('wrong-secret-password')
    })
  })
})
