import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Type-checks a small consumer against the BUILT declarations (dist/: build the package first),
// with skipLibCheck off, as a user's tsc sees them. The SDKs are replaced by a module that exports
// nothing (as if not installed), so any declaration that names one fails the check. One tsc run
// (slow on a shared machine); what each file imports is checked besides.
const root = fileURLToPath(new URL('../../..', import.meta.url))
const dist = join(root, 'packages/params/dist')
let dir: string

/** The SDK's own declarations, where a test has it installed. */
const installed = (name: string) => join(root, 'packages/params/node_modules', name, 'dist-types/index.d.ts')

function typeCheck(
  source: string,
  missing: readonly string[],
  present: readonly string[] = [],
): { status: number | null; output: string } {
  writeFileSync(join(dir, 'app.ts'), source)
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        skipLibCheck: false,
        noEmit: true,
        types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
        paths: {
          ...Object.fromEntries(missing.map((name) => [name, ['./not-installed/index.d.ts']])),
          ...Object.fromEntries(present.map((name) => [name, [installed(name)]])),
          '@warmstart/params': [join(dist, 'index.d.ts')],
          '@warmstart/params/ssm': [join(dist, 'ssm.d.ts')],
          '@warmstart/params/secrets-manager': [join(dist, 'secrets-manager.d.ts')],
          '@warmstart/params/ssm-sdk': [join(dist, 'ssm-sdk.d.ts')],
          '@warmstart/params/secrets-manager-sdk': [join(dist, 'secrets-manager-sdk.d.ts')],
        },
      },
      files: ['app.ts'],
    }),
  )
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const run = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'params-consumer-'))
  mkdirSync(join(dir, 'not-installed'))
  writeFileSync(join(dir, 'not-installed/index.d.ts'), 'export {}\n')
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n')
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('declarations name no SDK: a function that passes no client needs none installed', () => {
  it('every entry type-checks without either SDK', () => {
    const result = typeCheck(
      `import { paramsMiddleware, secretsManager, ssmParameters } from '@warmstart/params'
import { ssmParameters as ssmOnly, ttlCache } from '@warmstart/params/ssm'
import { secretsManager as secretsOnly } from '@warmstart/params/secrets-manager'
const ssm = ssmParameters({ ttl: '5m', staleIfError: '1h' })
const secrets = secretsManager({ ttl: '1h' })
export const middleware = paramsMiddleware({
  fetch: { flags: ssm.ref<{ on: boolean }>('/app/flags', { transform: 'json' }), db: secrets.ref('app/db') },
})
export const others = [ssmOnly(), secretsOnly(), ttlCache<number>()]
`,
      ['@aws-sdk/client-ssm', '@aws-sdk/client-secrets-manager'],
    )
    expect(result.output).toBe('')
    expect(result.status).toBe(0)
  }, 180_000)

  it('no declaration file imports an SDK but the SDK entries, each its own', () => {
    const own: Record<string, string> = {
      'ssm-sdk.d.ts': '@aws-sdk/client-ssm',
      'secrets-manager-sdk.d.ts': '@aws-sdk/client-secrets-manager',
    }
    for (const file of readdirSync(dist).filter((f) => f.endsWith('.d.ts'))) {
      const sdks = [...readFileSync(join(dist, file), 'utf8').matchAll(/from ['"](@aws-sdk\/[^'"]+)/g)]
      expect(new Set(sdks.map((match) => match[1])), file).toEqual(
        new Set(own[file] === undefined ? [] : [own[file]]),
      )
    }
  })

  it('an SDK entry type-checks with its own SDK alone', () => {
    const result = typeCheck(
      `import { SSMClient } from '@aws-sdk/client-ssm'
import { ssmParameters } from '@warmstart/params/ssm'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
export const ssm = ssmParameters({ client: fromSsmClient(new SSMClient({})), ttl: '5m' })
`,
      ['@aws-sdk/client-secrets-manager'],
      ['@aws-sdk/client-ssm'],
    )
    expect(result.output).toBe('')
    expect(result.status).toBe(0)
  }, 180_000)
})
