import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type LocalAws, startLocalAws } from '@warmstart/testing'
import { build, type Metafile } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Bundles handlers as a function that pins its own SDK does (esbuild, everything bundled, the SDK
// resolvable beside the code) from the BUILT package, and runs each bundle in a child process from a
// folder with no node_modules, as Lambda runs /var/task.
const run = promisify(execFile)
const packageDir = fileURLToPath(new URL('..', import.meta.url))
// The SDK resolves to CommonJS that requires Node's modules: an ESM bundle of it needs a require.
const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"

let aws: LocalAws
let dir: string

beforeAll(async () => {
  aws = await startLocalAws({
    parameters: { '/app/url': 'https://example.test' },
    secrets: { 'app/key': 'k-1' },
  })
  dir = await mkdtemp(path.join(tmpdir(), 'params-bundle-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
  await aws?.stop()
})

const READ = `
try {
  console.log(JSON.stringify({ url: await ssm.get('/app/url'), key: await secrets.get('app/key') }))
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message, cause: error.cause?.code }))
}`

const DEFAULT_PATH = `import { secretsManager, ssmParameters } from '@warmstart/params'
const ssm = ssmParameters()
const secrets = secretsManager()
${READ}`

const SSM_SDK_PATH = `import { SSMClient } from '@aws-sdk/client-ssm'
import { secretsManager } from '@warmstart/params/secrets-manager'
import { ssmParameters } from '@warmstart/params/ssm'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
const ssm = ssmParameters({ client: fromSsmClient(new SSMClient({ maxAttempts: 1 })) })
const secrets = secretsManager()
${READ}`

async function bundle(name: string, source: string): Promise<{ file: string; sdks: string[] }> {
  const entry = path.join(dir, `${name}-entry.mjs`)
  await writeFile(entry, source)
  const file = path.join(dir, `${name}.mjs`)
  const dist = (entryName: string) => path.join(packageDir, 'dist', `${entryName}.js`)
  const result = await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    metafile: true,
    banner: { js: BANNER },
    // The SDK a function pins, installed beside its code; the built package, as the registry has it.
    nodePaths: [path.join(packageDir, 'node_modules')],
    alias: {
      '@warmstart/params': dist('index'),
      '@warmstart/params/ssm': dist('ssm'),
      '@warmstart/params/secrets-manager': dist('secrets-manager'),
      '@warmstart/params/ssm-sdk': dist('ssm-sdk'),
    },
  })
  return { file, sdks: sdkPackages(result.metafile) }
}

/** The SDK client packages a bundle holds. */
function sdkPackages(metafile: Metafile): string[] {
  const names = Object.keys(metafile.inputs).map((input) => /@aws-sdk\/client-[a-z-]+/.exec(input)?.[0])
  return [...new Set(names.filter((name) => name !== undefined))].sort()
}

async function runIn(file: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['--no-warnings', file], { cwd: dir, env })
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>
}

describe('bundled with the SDK in it', () => {
  it('the default path bundles no SDK, and reads with the credentials Lambda gives', async () => {
    const { file, sdks } = await bundle('default', DEFAULT_PATH)
    // Before the SDK paths had entries of their own, both SDKs were here (675 kB for 22 values).
    expect(sdks).toEqual([])
    expect(await runIn(file, { PATH: process.env.PATH, HOME: dir, ...aws.env })).toEqual({
      url: 'https://example.test',
      key: 'k-1',
    })
  })

  it('with no credentials in the environment and no SDK beside it, the default path fails at once with a typed error', async () => {
    const { file } = await bundle('default', DEFAULT_PATH)
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _key, AWS_SESSION_TOKEN: _token, ...env } = aws.env
    const outcome = await runIn(file, { PATH: process.env.PATH, HOME: dir, ...env })
    expect(outcome).toMatchObject({ code: 'ERR_PEER_MISSING' })
    expect(outcome.message).toContain('@aws-sdk/client-ssm')
  })

  it('an SDK path bundles its own SDK alone, and reads through the caller client', async () => {
    const { file, sdks } = await bundle('ssm-sdk', SSM_SDK_PATH)
    expect(sdks).toEqual(['@aws-sdk/client-ssm'])
    expect(await runIn(file, { PATH: process.env.PATH, HOME: dir, ...aws.env })).toEqual({
      url: 'https://example.test',
      key: 'k-1',
    })
  })
})
