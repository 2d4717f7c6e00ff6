import middy from '@middy/core'
import { lifecycleMiddleware } from '@warmstart/lifecycle'
import { pgConnection, pgMiddleware } from '@warmstart/pg'
import type { Context } from 'aws-lambda'
import type { Client } from 'pg'
import { jsonLogger } from '../shared/json-logger.js'
import { iamAuthConfig } from './iam-auth.js'

const env = {
  hostname: process.env.DB_HOST ?? 'my-proxy.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com',
  port: Number(process.env.DB_PORT ?? 5432),
  username: process.env.DB_USER ?? 'app',
  database: process.env.DB_NAME ?? 'app',
  region: process.env.AWS_REGION ?? 'eu-west-1',
}

// DB_TLS=off and DB_AUTH=password exist for the example's own test against a local PostgreSQL
// (no TLS, no IAM): never set them in a deployment.
const ssl = process.env.DB_TLS === 'off' ? false : { rejectUnauthorized: true }
const config =
  process.env.DB_AUTH === 'password'
    ? {
        host: env.hostname,
        port: env.port,
        user: env.username,
        database: env.database,
        password: process.env.DB_PASSWORD,
      }
    : iamAuthConfig({ ...env, ssl })

const db = pgConnection({
  name: 'proxy',
  config,
  // Tokens are only checked at login, but recycling connections well within their 15 minutes
  // also moves them to a new proxy target after a failover.
  maxLifetime: '10m',
  closeOnShutdown: true,
  logger: jsonLogger,
})

async function app(_event: unknown, context: Context & { pg: Client }) {
  const { rows } = await context.pg.query<{ user: string; backend: number }>(
    'SELECT current_user AS user, pg_backend_pid() AS backend',
  )
  return rows[0]
}

export const handler = middy(app)
  .use(lifecycleMiddleware({ logger: jsonLogger }))
  .use(pgMiddleware({ db, setToContext: 'pg' }))
