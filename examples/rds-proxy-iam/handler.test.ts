import { type PgConnection, pgConnection } from '@warmstart/pg'
import {
  type Simulation,
  simulateLambda,
  startLocalAws,
  startPostgres,
  type TestPostgres,
} from '@warmstart/testing'
import type { ClientConfig } from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleForTest, type TestBundle } from '../shared/test-bundle.js'
import { iamAuthConfig } from './iam-auth.js'

let postgres: TestPostgres
let bundle: TestBundle
const stops: (() => Promise<void>)[] = []

beforeAll(async () => {
  ;[postgres, bundle] = await Promise.all([
    startPostgres(),
    bundleForTest(new URL('./handler.ts', import.meta.url)),
  ])
})

afterAll(async () => {
  for (const stop of stops.reverse()) await stop()
  await Promise.all([postgres?.stop(), bundle?.remove()])
})

// Dummy credentials: the signer computes the token locally and never calls AWS.
const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
}

describe('iamAuthConfig: a real IAM auth token, really used to log in', () => {
  it('signs a token at each connect, and PostgreSQL accepts it as the password', async () => {
    const { config } = postgres
    const source = iamAuthConfig({
      hostname: config.host,
      port: config.port,
      username: config.user,
      database: config.database,
      region: 'eu-west-1',
      ssl: false,
      credentials,
    }) as (attempt: { refresh: boolean }) => Promise<ClientConfig>
    const tokens: string[] = []
    // Local PostgreSQL knows nothing of IAM: the role's password becomes each token just before
    // the login, so the token the signer made is the password that logs in.
    const db: PgConnection = pgConnection({
      config: async (attempt) => {
        const settings = await source(attempt)
        tokens.push(settings.password as string)
        await postgres.setPassword(config.user, settings.password as string)
        return settings
      },
    })
    stops.push(() => db.end())
    expect((await db.query('SELECT current_user AS user')).rows[0]?.user).toBe(config.user)
    expect(tokens).toHaveLength(1)
    const token = new URL(`https://${tokens[0]}`)
    expect(token.host).toBe(`${config.host}:${config.port}`)
    expect(Object.fromEntries(token.searchParams)).toMatchObject({
      Action: 'connect',
      DBUser: config.user,
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Expires': '900',
      'X-Amz-Credential': expect.stringMatching(
        /^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/rds-db\/aws4_request$/,
      ),
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    })

    // A new connection needs a new login, and gets a token of its own.
    await postgres.terminateBackends({ user: config.user })
    expect((await db.query('SELECT 1 AS one')).rows[0]?.one).toBe(1)
    expect(tokens).toHaveLength(2)
    await postgres.setPassword(config.user, config.password)
  })
})

describe('rds-proxy-iam, bundled, under simulateLambda', () => {
  async function simulate(env: Record<string, string>): Promise<Simulation> {
    const aws = await startLocalAws()
    const { config } = postgres
    const lambda = simulateLambda({
      handler: bundle.handler,
      env: {
        ...aws.env,
        DB_HOST: config.host,
        DB_PORT: String(config.port),
        DB_USER: config.user,
        DB_NAME: config.database,
        DB_TLS: 'off',
        ...env,
      },
      timeout: '10s',
    })
    stops.push(
      () => aws.stop(),
      () => lambda.stop(),
    )
    return lambda
  }

  it('keeps one connection warm and replaces the one the database dropped during a freeze (password switch)', async () => {
    const lambda = await simulate({ DB_AUTH: 'password', DB_PASSWORD: postgres.config.password })
    const cold = await lambda.invoke({})
    const warm = await lambda.invoke({})
    expect(cold).toMatchObject({ ok: true, coldStart: true, result: { user: postgres.config.user } })
    expect(warm).toMatchObject({ ok: true, coldStart: false, result: cold.result })
    await lambda.wait(100)
    await postgres.terminateBackends({ user: postgres.config.user })
    const after = await lambda.invoke({})
    expect(after.ok).toBe(true)
    expect((after.result as { backend: number }).backend).not.toBe(
      (cold.result as { backend: number }).backend,
    )
  })

  it('signs inside the bundle and sends the token: a server that does not know it refuses the login, and the token is not in the error', async () => {
    const lambda = await simulate({})
    const refused = await lambda.invoke({})
    expect(refused.ok).toBe(false)
    expect(refused.error?.message).toMatch(/password authentication failed/)
    expect(JSON.stringify(refused)).not.toMatch(/X-Amz-Signature/)
  })
})
