// Cold start: what a user feels. Two parts:
//  1. A handler that reads 20 SSM parameters and 2 secrets, bundled as Lambda code is deployed
//     (esbuild, minified, the AWS SDK external as the runtime ships it), run in fresh Node processes
//     against one local SSM / Secrets Manager endpoint (startLocalAws, signatures verified): the time
//     from the process's start of user code to the first value in hand, import included. Contenders
//     in turn, one process each per pass, so a slow spell of the machine hits them all alike:
//     warmstart's default path (SigV4 over node:http, no SDK loaded), warmstart given SDK clients,
//     Powertools Parameters, Middy's ssm + secrets-manager, and the SDK clients called by hand.
//  1b. A handler's first PostgreSQL query, connection included, in fresh processes: @warmstart/pg,
//     serverless-postgres and a pg.Client by hand, against one real PostgreSQL.
//  2. What each package adds to a bundle and how long importing it takes, next to the anchors.
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { startLocalAws, startPostgres } from '@warmstart/testing'
import { build } from 'esbuild'
import { median } from './stats.mjs'

const benchDir = fileURLToPath(new URL('.', import.meta.url))
const outDir = `${benchDir}.tmp/cold-start`
const IMPORT_RUNS = 31
const FIRST_VALUE_RUNS = Number(process.env.COLD_START_RUNS ?? 21)

const PARAMETERS = Array.from({ length: 20 }, (_, i) => `/cold/app/p${String(i).padStart(2, '0')}`)
const SECRETS = ['cold/db', 'cold/api']
const NAMES = JSON.stringify(PARAMETERS)
const IDS = JSON.stringify(SECRETS)

/** Each handler module exports `first()`, which resolves with the number of values read (22). */
const HANDLERS = [
  [
    'warmstart, default path (no SDK)',
    `import { secretsManager, ssmParameters } from '@warmstart/params'
const ssm = ssmParameters()
const secrets = secretsManager()
export async function first() {
  const [p, s] = await Promise.all([ssm.getMany(${NAMES}), secrets.getMany(${IDS})])
  return Object.keys(p).length + Object.keys(s).length
}`,
  ],
  [
    'warmstart, SDK clients passed',
    `import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import { secretsManager, ssmParameters } from '@warmstart/params'
import { fromSecretsManagerClient } from '@warmstart/params/secrets-manager-sdk'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
const ssm = ssmParameters({ client: fromSsmClient(new SSMClient({})) })
const secrets = secretsManager({ client: fromSecretsManagerClient(new SecretsManagerClient({})) })
export async function first() {
  const [p, s] = await Promise.all([ssm.getMany(${NAMES}), secrets.getMany(${IDS})])
  return Object.keys(p).length + Object.keys(s).length
}`,
  ],
  [
    'Powertools Parameters',
    `import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets'
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
const ssm = new SSMProvider()
const secrets = new SecretsProvider()
export async function first() {
  const [p, s] = await Promise.all([
    ssm.getParametersByName(Object.fromEntries(${NAMES}.map((name) => [name, {}]))),
    Promise.all(${IDS}.map((id) => secrets.get(id))),
  ])
  return Object.keys(p).length + s.length
}`,
  ],
  [
    'Middy ssm + secrets-manager',
    `import middy from '@middy/core'
import secretsManager from '@middy/secrets-manager'
import ssm from '@middy/ssm'
const keys = ${NAMES}.map((_, i) => 'p' + i).concat(${IDS}.map((_, i) => 's' + i))
const handler = middy(async (_event, context) => keys.filter((key) => context[key] !== undefined).length)
  .use(ssm({ fetchData: Object.fromEntries(${NAMES}.map((name, i) => ['p' + i, name])), setToContext: true }))
  .use(secretsManager({ fetchData: Object.fromEntries(${IDS}.map((id, i) => ['s' + i, id])), setToContext: true }))
export function first() {
  return handler({}, { getRemainingTimeInMillis: () => 30000, awsRequestId: 'cold-1' })
}`,
  ],
  [
    'AWS SDK clients by hand',
    `import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm'
const ssm = new SSMClient({})
const secrets = new SecretsManagerClient({})
export async function first() {
  const names = ${NAMES}
  const [a, b, ...s] = await Promise.all([
    ssm.send(new GetParametersCommand({ Names: names.slice(0, 10), WithDecryption: true })),
    ssm.send(new GetParametersCommand({ Names: names.slice(10), WithDecryption: true })),
    ...${IDS}.map((id) => secrets.send(new GetSecretValueCommand({ SecretId: id }))),
  ])
  return a.Parameters.length + b.Parameters.length + s.length
}`,
  ],
]

const PG_CONFIG = 'JSON.parse(process.env.BENCH_PG_CONFIG)'
const PG_QUERY = "'SELECT $1::int AS n', [1]"

/** Each exports `first()`: the handler's first query, connection included; resolves with its row count. */
const PG_HANDLERS = [
  [
    '@warmstart/pg pgConnection',
    `import { pgConnection } from '@warmstart/pg'
const db = pgConnection({ config: ${PG_CONFIG} })
export async function first() {
  const { rows } = await db.query(${PG_QUERY})
  return rows.length
}`,
  ],
  [
    'serverless-postgres',
    `import ServerlessClient from 'serverless-postgres'
const client = new ServerlessClient(${PG_CONFIG})
export async function first() {
  await client.connect()
  const { rows } = await client.query(${PG_QUERY})
  await client.clean()
  return rows.length
}`,
  ],
  [
    'pg.Client by hand',
    `import pg from 'pg'
const client = new pg.Client(${PG_CONFIG})
let connected
export async function first() {
  connected ??= client.connect()
  await connected
  const { rows } = await client.query(${PG_QUERY})
  return rows.length
}`,
  ],
]
// serverless-postgres loads pg with require(), which an ESM bundle has only through createRequire,
// as Lambda's esbuild guides set it: every PostgreSQL handler gets the same banner.
const REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"

/** [group, label, entry source]: each group compares warmstart with the anchors doing the same job. */
const CASES = [
  ['core', '@warmstart/core', "export * from '@warmstart/core'"],
  ['lazy client', '@warmstart/client', "export * from '@warmstart/client'"],
  ['LRU', '@warmstart/lru', "export * from '@warmstart/lru'"],
  ['LRU', 'lru-cache', "export * from 'lru-cache'"],
  ['SSM + Secrets Manager', '@warmstart/params', "export * from '@warmstart/params'"],
  [
    'SSM + Secrets Manager',
    '@aws-lambda-powertools/parameters (ssm + secrets)',
    "export * from '@aws-lambda-powertools/parameters/ssm'; export * from '@aws-lambda-powertools/parameters/secrets'",
  ],
  [
    'SSM + Secrets Manager',
    '@middy/ssm + @middy/secrets-manager',
    "export { default as ssm } from '@middy/ssm'; export { default as secrets } from '@middy/secrets-manager'",
  ],
  ['PostgreSQL', '@warmstart/pg', "export * from '@warmstart/pg'"],
  ['PostgreSQL', 'serverless-postgres', "export { default } from 'serverless-postgres'"],
  ['leak guard', '@warmstart/leak-guard', "export * from '@warmstart/leak-guard'"],
  ['lifecycle', '@warmstart/lifecycle', "export * from '@warmstart/lifecycle'"],
  ['/tmp cache', '@warmstart/tmp-cache', "export * from '@warmstart/tmp-cache'"],
]

async function bundle(label, contents, external = ['@aws-sdk/*', 'pg', 'pg-native'], banner = '') {
  const result = await build({
    banner: { js: banner },
    stdin: { contents, resolveDir: benchDir, loader: 'js', sourcefile: `${label}.mjs` },
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external,
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  return { code: result.outputFiles[0].contents, metafile: result.metafile }
}

/** The largest inputs of a bundle, by the bytes they left in the output. */
function largestInputs(metafile, count) {
  const output = Object.values(metafile.outputs)[0]
  return Object.entries(output.inputs)
    .map(([path, { bytesInOutput }]) => [
      path.replace(/^.*node_modules\//, '').replace(/^(\.\.\/)+/, ''),
      bytesInOutput,
    ])
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
}

function importOnce(file) {
  const script = `const t = process.hrtime.bigint(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6))`
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: benchDir }))
}

const runFile = promisify(execFile)

/**
 * One fresh process: ms from the start of user code to the module imported, and to the first
 * values, and the bytes of the CommonJS modules it loaded from node_modules by then (the external
 * SDK or pg, as a function loads them from the runtime's or its own node_modules). Asynchronous:
 * the local endpoint answers from this process's event loop.
 */
async function firstValueOnce(file, env) {
  const script = `const t0 = performance.now()
const handler = await import(${JSON.stringify(pathToFileURL(file).href)})
const t1 = performance.now()
const count = await handler.first()
const t2 = performance.now()
const { createRequire } = await import('node:module')
const { statSync } = await import('node:fs')
const modules = Object.keys(createRequire(process.cwd() + '/').cache)
const moduleBytes = modules.reduce((sum, path) => sum + statSync(path).size, 0)
process.stdout.write(JSON.stringify({ importMs: t1 - t0, totalMs: t2 - t0, count, moduleBytes }))
process.exit(0)`
  const { stdout } = await runFile(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
    cwd: benchDir,
    env,
  })
  return JSON.parse(stdout)
}

export async function run() {
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`
  const slug = (label) => label.replace(/[^a-z0-9]+/gi, '_')

  // 1. Import and first value of a 20 + 2 handler.
  const aws = await startLocalAws({
    verifySignatures: true,
    parameters: Object.fromEntries(PARAMETERS.map((name, i) => [name, `value-${i}`])),
    secrets: Object.fromEntries(SECRETS.map((id, i) => [id, `secret-${i}`])),
  })
  const handlers = []
  for (const [label, contents] of HANDLERS) {
    const { code, metafile } = await bundle(label, contents)
    const file = `${outDir}/handler_${slug(label)}.mjs`
    writeFileSync(file, code)
    // What a function ships that bundles its own SDK (AWS's advice, to pin its version): the same
    // handler with nothing external but pg.
    const { code: shipped } = await bundle(label, contents, ['pg', 'pg-native'])
    handlers.push({
      label,
      file,
      bytes: code.length,
      gzip: gzipSync(code).length,
      shippedBytes: shipped.length,
      shippedGzip: gzipSync(shipped).length,
      metafile,
      runs: [],
    })
  }
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...aws.env }
  try {
    for (let i = 0; i < FIRST_VALUE_RUNS; i++) {
      process.stderr.write(`cold-start: first values, pass ${i + 1} of ${FIRST_VALUE_RUNS}\n`)
      for (const handler of handlers) {
        const result = await firstValueOnce(handler.file, env)
        if (result.count !== PARAMETERS.length + SECRETS.length) {
          throw new Error(
            `${handler.label} read ${result.count} values, not ${PARAMETERS.length + SECRETS.length}`,
          )
        }
        handler.runs.push(result)
      }
    }
    for (const handler of handlers) {
      if (handler.label.startsWith('warmstart, default')) {
        const unverified = aws.calls.filter((call) => call.signature !== 'verified').length
        if (unverified > 0) throw new Error(`${unverified} requests were not verified signatures`)
      }
    }
  } finally {
    await aws.stop()
  }
  for (const handler of handlers) {
    handler.importMs = median(handler.runs.map((r) => r.importMs))
    handler.totalMs = median(handler.runs.map((r) => r.totalMs))
    handler.loadedBytes = handler.bytes + median(handler.runs.map((r) => r.moduleBytes))
  }
  const anchors = handlers.filter((h) => !h.label.startsWith('warmstart') && !h.label.startsWith('AWS SDK'))
  const fastestAnchor = anchors.reduce((a, b) => (a.totalMs <= b.totalMs ? a : b))
  const warmstartDefault = handlers[0]
  const middyHandler = handlers.find((h) => h.label.startsWith('Middy'))

  // 1b. Import and first query of a PostgreSQL handler, connection included.
  const postgres = await startPostgres()
  const pgHandlers = []
  try {
    for (const [label, contents] of PG_HANDLERS) {
      const { code } = await bundle(label, contents, ['@aws-sdk/*', 'pg', 'pg-native'], REQUIRE_BANNER)
      const file = `${outDir}/pg_${slug(label)}.mjs`
      writeFileSync(file, code)
      pgHandlers.push({ label, file, bytes: code.length, runs: [] })
    }
    const pgEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      BENCH_PG_CONFIG: JSON.stringify(postgres.config),
    }
    for (let i = 0; i < FIRST_VALUE_RUNS; i++) {
      process.stderr.write(`cold-start: first queries, pass ${i + 1} of ${FIRST_VALUE_RUNS}\n`)
      for (const handler of pgHandlers) {
        const result = await firstValueOnce(handler.file, pgEnv)
        if (result.count !== 1) throw new Error(`${handler.label} read ${result.count} rows, not 1`)
        handler.runs.push(result)
      }
    }
  } finally {
    await postgres.stop()
  }
  for (const handler of pgHandlers) {
    handler.importMs = median(handler.runs.map((r) => r.importMs))
    handler.totalMs = median(handler.runs.map((r) => r.totalMs))
    handler.loadedBytes = handler.bytes + median(handler.runs.map((r) => r.moduleBytes))
  }
  const pgByHand = pgHandlers.find((h) => h.label.startsWith('pg.Client'))

  // 2. What each package adds, and its import alone.
  const rows = []
  for (const [group, label, contents] of CASES) {
    const { code } = await bundle(label, contents)
    const file = `${outDir}/${slug(label)}.mjs`
    writeFileSync(file, code)
    rows.push({ group, label, bytes: code.length, gzip: gzipSync(code).length, file, imports: [] })
  }
  // Imports interleaved, one of each case per pass: a slow spell of the machine hits them all alike.
  for (let i = 0; i < IMPORT_RUNS; i++) {
    process.stderr.write(`cold-start: imports, pass ${i + 1} of ${IMPORT_RUNS}\n`)
    for (const row of rows) row.imports.push(importOnce(row.file))
  }
  for (const row of rows) row.importMs = median(row.imports)
  const pgRow = (label) => rows.find((r) => r.label === label)
  rmSync(outDir, { recursive: true, force: true })

  const lines = [
    `### Import and first value: a handler reading 20 SSM parameters and 2 secrets`,
    '',
    `Each handler is bundled with esbuild (\`bundle, minify, platform node, format esm\`, \`@aws-sdk/*\` external: the Lambda runtime ships the SDK) and run ${FIRST_VALUE_RUNS} times, each time in a fresh \`node\` process, the contenders in turn; it imports the bundle and reads the 22 values from a local SSM / Secrets Manager endpoint (\`startLocalAws\`, every signature verified) with the environment a Lambda function has (\`AWS_REGION\`, credentials, \`AWS_ENDPOINT_URL_SSM\` / \`_SECRETS_MANAGER\`). Times are medians from the start of user code; node's own start (the same for all) is not in them. Loopback has no network latency and no TLS: on AWS each contender adds the same round trips and handshakes.`,
    '',
    '| handler | import | import + first 20 + 2 values | vs fastest anchor | bundle (minified, SDK external) | gzip | bundle with the SDK in it | gzip | JavaScript loaded by the first value (bundle + node_modules) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...handlers.map(
      (h) =>
        `| ${h.label} | ${h.importMs.toFixed(1)} ms | ${h.totalMs.toFixed(1)} ms | ${(h.totalMs / fastestAnchor.totalMs).toFixed(2)}× | ${kb(h.bytes)} | ${kb(h.gzip)} | ${kb(h.shippedBytes)} | ${kb(h.shippedGzip)} | ${kb(h.loadedBytes)} |`,
    ),
    '',
    'The last column is what a cold start reads and compiles: the bundle and the CommonJS modules it loaded from node_modules by its first value (the SDK the Lambda runtime ships, which a bundle with the SDK external loads from `/var/runtime/node_modules`).',
    '',
    `warmstart's default path: **${(warmstartDefault.totalMs / fastestAnchor.totalMs).toFixed(2)}×** the fastest anchor (${fastestAnchor.label}); goal ≤ 0.6×.`,
    '',
    `Bundle, SDK external: warmstart's default handler is ${kb(warmstartDefault.bytes)} against ${middyHandler.label}'s ${kb(middyHandler.bytes)} (goal ≤ Middy's: ${warmstartDefault.bytes <= middyHandler.bytes ? 'met' : 'not met'}). What it holds that Middy's does not: its own SigV4 signer and HTTP transport (Middy's handler calls the SDK that the runtime loads, ${(middyHandler.importMs - warmstartDefault.importMs).toFixed(0)} ms more import here), deadlines, backoff, single flight, batching and stale-if-error. With the SDK in the bundle (nothing external but pg, as a function that pins its own SDK ships it), warmstart's default handler is ${kb(warmstartDefault.shippedBytes)} against ${kb(Math.min(...anchors.map((h) => h.shippedBytes)))} for the smallest anchor: only the SDK entries (\`@warmstart/params/ssm-sdk\`, \`@warmstart/params/secrets-manager-sdk\`) import an SDK, and the SDK's credential chain, used only where the environment has no keys (never in Lambda), is loaded from node_modules by a name no bundler follows.`,
    '',
    `JavaScript read and compiled by the first value: warmstart's default handler ${kb(warmstartDefault.loadedBytes)}, ${middyHandler.label} ${kb(middyHandler.loadedBytes)} (${(warmstartDefault.loadedBytes / middyHandler.loadedBytes).toFixed(2)}×), the smallest anchor ${kb(Math.min(...anchors.map((h) => h.loadedBytes)))}. Leaving the SDK external takes it out of the bundle, not out of the cold start: the runtime's copy is loaded from disk and compiled, which is the import time above.`,
    '',
    `Largest inputs of the warmstart default handler's bundle (bytes in the minified output): ${largestInputs(
      warmstartDefault.metafile,
      8,
    )
      .map(([path, bytes]) => `\`${path}\` ${bytes}`)
      .join(', ')}.`,
    '',
    'Reproduce: `npm run build && node bench/cold-start.bench.mjs` (`COLD_START_RUNS=31` for more runs).',
    '',
    `### Import and first query: a handler's first PostgreSQL query`,
    '',
    `Each handler is bundled as above (\`pg\` external, with the \`createRequire\` banner that serverless-postgres's \`require('pg')\` needs in an ESM bundle, the same for all) and run ${FIRST_VALUE_RUNS} times, each time in a fresh \`node\` process, the contenders in turn: import, then connect and run one query on a real PostgreSQL over loopback (\`startPostgres\`, SCRAM login). Medians from the start of user code.`,
    '',
    '| handler | import | import + connect + first query | vs pg.Client by hand | bundle (minified, pg external) | JavaScript loaded by the first row (bundle + node_modules) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...pgHandlers.map(
      (h) =>
        `| ${h.label} | ${h.importMs.toFixed(1)} ms | ${h.totalMs.toFixed(1)} ms | ${(h.totalMs / pgByHand.totalMs).toFixed(2)}× | ${kb(h.bytes)} | ${kb(h.loadedBytes)} |`,
    ),
    '',
    `@warmstart/pg loads pg at the first connect, not at import (${pgHandlers[0].importMs.toFixed(0)} ms against ${pgHandlers[1].importMs.toFixed(0)} ms for serverless-postgres, which loads it when constructed): a cold start that never reaches the database does not pay for it. One that does has its first row, deadlines, cancellation and liveness included, at ${(pgHandlers[0].totalMs / pgByHand.totalMs).toFixed(2)}× a pg.Client by hand's time and ${(pgHandlers[0].totalMs / pgHandlers[1].totalMs).toFixed(2)}× serverless-postgres's${pgHandlers[0].totalMs <= pgHandlers[1].totalMs ? ': the larger bundle costs no time a user can see at a cold start' : ''}. JavaScript read and compiled by the first row, pg included: ${kb(pgHandlers[0].loadedBytes)} against ${kb(pgHandlers[1].loadedBytes)} for serverless-postgres (${(pgHandlers[0].loadedBytes / pgHandlers[1].loadedBytes).toFixed(2)}×).`,
    '',
    `### Bundle size and import time of each package`,
    '',
    `Each entry is bundled as above (\`pg\` external too) and imported ${IMPORT_RUNS} times, each time in a fresh \`node\` process and in turn with the other entries; the import time is the median. Import time includes loading the external SDK or pg where a library loads it at import.`,
    '',
    '| job | package | minified | gzip | import (median) |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows.map(
      (r) => `| ${r.group} | ${r.label} | ${kb(r.bytes)} | ${kb(r.gzip)} | ${r.importMs.toFixed(1)} ms |`,
    ),
    '',
    `PostgreSQL: @warmstart/pg is ${kb(pgRow('@warmstart/pg').bytes)} against serverless-postgres's ${kb(pgRow('serverless-postgres').bytes)} (goal ≤ serverless-postgres's: ${pgRow('@warmstart/pg').bytes <= pgRow('serverless-postgres').bytes ? 'met' : 'not met'}); its own part is the pool's state machine with query deadlines, cancellation and liveness after a thaw, and @warmstart/core and @warmstart/lifecycle come with it.`,
  ]
  return { title: 'Cold start: the first value, bundle size and import time', markdown: lines.join('\n') }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log((await run()).markdown)
}
