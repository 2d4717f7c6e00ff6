// A realistic handler, written as a user writes it against the PACKED packages: config from SSM,
// the database credentials from Secrets Manager, one pg connection per environment, a Middy chain
// with the leak guard and lifecycle logs, an LRU and background work. Bundled with esbuild (ESM
// and CJS, the AWS SDK left out) and run under the packed @warmstart/testing by run.mjs.
import middy from '@middy/core'
import { leakGuardMiddleware } from '@warmstart/leak-guard'
import { isColdStart, lifecycleMiddleware, waitUntil } from '@warmstart/lifecycle'
import { boundedLru } from '@warmstart/lru'
import { type ParamsOf, paramsMiddleware, secretsManager, ssmParameters } from '@warmstart/params'
import { pgConnection, pgMiddleware } from '@warmstart/pg'
import type { Context } from 'aws-lambda'
import type { Client } from 'pg'

interface AppConfig {
  greeting: string
  features: { audit: boolean }
}

interface DbSecret {
  username: string
  password: string
  host: string
  port: number
  dbname: string
}

const SECRET_ID = process.env.DB_SECRET_ID ?? 'app/db'
const ssm = ssmParameters({ ttl: '5m' })
const secrets = secretsManager({ ttl: '1h' })

const db = pgConnection({
  name: 'app',
  // Read at connect only; after a rotation the server refuses the cached password and pgConnection
  // asks again with refresh: true.
  config: async ({ refresh }) => {
    const secret = refresh
      ? await secrets.refresh<DbSecret>(SECRET_ID, { transform: 'json' })
      : await secrets.get<DbSecret>(SECRET_ID, { transform: 'json' })
    return {
      user: secret.username,
      password: secret.password,
      host: secret.host,
      port: Number(secret.port),
      database: secret.dbname,
      application_name: 'consumer-check',
    }
  },
  validateAfterIdle: '1s',
})

const greetings = boundedLru<string, string>({ name: 'greetings', max: 100 })
const fetch = {
  config: ssm.ref<AppConfig>(process.env.CONFIG_PARAMETER ?? '/app/config', { transform: 'json' }),
}

type AppContext = Context & ParamsOf<typeof fetch> & { pg: Client }
interface Event {
  user: string
}

async function app(event: Event, context: AppContext) {
  const { config, pg } = context
  const greeting = await greetings.getOrLoad(event.user, async (user) => `${config.greeting}, ${user}`)
  await pg.query('INSERT INTO visits DEFAULT VALUES')
  const { rows } = await pg.query<{ pid: number; visits: number }>(
    'SELECT pg_backend_pid() AS pid, count(*)::int AS visits FROM visits',
  )
  if (config.features.audit) waitUntil(Promise.resolve(), { name: 'audit' })
  return { cold: isColdStart(), greeting, pid: rows[0]?.pid, visits: rows[0]?.visits }
}

export const handler = middy<Event, unknown, Error, AppContext>(app)
  .use(leakGuardMiddleware({ mode: 'warn' }))
  .use(lifecycleMiddleware())
  .use(paramsMiddleware({ fetch }))
  .use(pgMiddleware({ db, setToContext: 'pg' }))
