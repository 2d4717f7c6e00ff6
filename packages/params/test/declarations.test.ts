import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Type-checks a small consumer against the BUILT declarations (dist/: build the package first),
// with skipLibCheck off, as a user's tsc sees them. The SDK the app did not install is replaced by
// a module that exports nothing, so any declaration that names it fails the check. One tsc run
// (slow on a shared machine); the other entries are checked by what their files import.
const root = fileURLToPath(new URL('../../..', import.meta.url))
const dist = join(root, 'packages/params/dist')
let dir: string

function typeCheck(source: string, missing: string): { status: number | null; output: string } {
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
          [missing]: ['./not-installed/index.d.ts'],
          '@warmstart/params': [join(dist, 'index.d.ts')],
          '@warmstart/params/ssm': [join(dist, 'ssm.d.ts')],
          '@warmstart/params/secrets-manager': [join(dist, 'secrets-manager.d.ts')],
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

describe('declarations need only the SDK of the service used', () => {
  it('@warmstart/params/ssm type-checks without the Secrets Manager SDK', () => {
    const result = typeCheck(
      `import { paramsMiddleware, ssmParameters, ttlCache } from '@warmstart/params/ssm'
const ssm = ssmParameters({ ttl: '5m', staleIfError: '1h' })
export const middleware = paramsMiddleware({ fetch: { flags: ssm.ref<{ on: boolean }>('/app/flags', { transform: 'json' }) } })
export const cache = ttlCache<number>()
`,
      '@aws-sdk/client-secrets-manager',
    )
    expect(result.output).toBe('')
    expect(result.status).toBe(0)
  }, 180_000)

  it('no declaration file of a subpath names the other SDK; the main entry names both', () => {
    const files = readdirSync(dist).filter((file) => file.endsWith('.d.ts'))
    const names = (file: string) => {
      const text = readFileSync(join(dist, file), 'utf8')
      return ['@aws-sdk/client-ssm', '@aws-sdk/client-secrets-manager'].filter((sdk) => text.includes(sdk))
    }
    expect(names('index.d.ts')).toEqual(['@aws-sdk/client-ssm', '@aws-sdk/client-secrets-manager'])
    expect(names('ssm.d.ts')).toEqual(['@aws-sdk/client-ssm'])
    expect(names('secrets-manager.d.ts')).toEqual(['@aws-sdk/client-secrets-manager'])
    // The chunks both subpaths share name neither.
    for (const file of files.filter((f) => !['index.d.ts', 'ssm.d.ts', 'secrets-manager.d.ts'].includes(f))) {
      expect(names(file)).toEqual([])
    }
  })
})
