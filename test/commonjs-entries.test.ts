// The built packages as a CommonJS program and an ESM one load them (plain node, no vitest aliases):
// what two entries both export is one value, and a package's error classes extend core's
// WarmstartError, in either module system. A CommonJS build that gives each entry its own copy of a
// class breaks `instanceof` for every error that crosses entries: an option error made by
// '@warmstart/core/internal' is not a `WarmstartError` of '@warmstart/core', a ParameterNotFoundError
// thrown by '@warmstart/params/ssm' is not the one '@warmstart/params' exports.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const PACKAGES = ['core', 'client', 'lru', 'params', 'pg', 'leak-guard', 'lifecycle', 'tmp-cache', 'testing']
// Entries that do something when loaded (vitest's setup, the simulated runtime's child) are not loaded.
const NOT_LOADED = new Set(['@warmstart/testing/vitest-global-setup', '@warmstart/testing/runner'])

/** Every entry of every package, from its package.json's exports. */
function entries(): string[] {
  return PACKAGES.flatMap((name) => {
    const manifest = JSON.parse(readFileSync(`${root}packages/${name}/package.json`, 'utf8')) as {
      exports: Record<string, unknown>
    }
    return Object.keys(manifest.exports)
      .filter((key) => key !== './package.json')
      .map((key) => `@warmstart/${name}${key.slice(1)}`)
      .filter((entry) => !NOT_LOADED.has(entry))
  })
}

interface Report {
  /** Names exported by two entries of one package whose values differ: `entry a / entry b: name`. */
  differing: string[]
  /** Exported classes whose prototype chain holds core's WarmstartError, as `entry: name`. */
  warmstartErrors: string[]
  /** Whether an option error from a package's provider is a WarmstartError of '@warmstart/core'. */
  optionErrorIsWarmstartError: boolean
}

// The same program for both module systems; `load` is require or import.
const PROGRAM = (list: string[]) => `
const entries = ${JSON.stringify(list)}
const modules = new Map()
for (const entry of entries) modules.set(entry, await load(entry))
const { WarmstartError } = modules.get('@warmstart/core')
const differing = []
const warmstartErrors = []
for (const [entry, exports] of modules) {
  const pkg = entry.split('/').slice(0, 2).join('/')
  for (const [other, otherExports] of modules) {
    if (other <= entry || !other.startsWith(pkg + '/') && other !== pkg) continue
    for (const name of Object.keys(exports)) {
      if (name !== 'default' && name in otherExports && otherExports[name] !== exports[name]) differing.push(entry + ' / ' + other + ': ' + name)
    }
  }
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value === 'function' && value.prototype instanceof WarmstartError) warmstartErrors.push(entry + ': ' + name)
  }
}
let optionErrorIsWarmstartError = false
try {
  modules.get('@warmstart/params').ssmParameters({ maxAgee: '5m' })
} catch (error) {
  optionErrorIsWarmstartError = error instanceof WarmstartError && error.code === 'ERR_INVALID_OPTION'
}
process.stdout.write(JSON.stringify({ differing, warmstartErrors: warmstartErrors.sort(), optionErrorIsWarmstartError }))
`

async function report(kind: 'commonjs' | 'module'): Promise<Report> {
  const program =
    kind === 'commonjs'
      ? `const load = async (entry) => require(entry);(async () => {${PROGRAM(entries())}})().catch((error) => { console.error(error); process.exit(1) })`
      : `const load = (entry) => import(entry);${PROGRAM(entries())}`
  const { stdout } = await run(process.execPath, [`--input-type=${kind}`, '-e', program], { cwd: root })
  return JSON.parse(stdout) as Report
}

describe('the built entries, loaded as CommonJS and as ESM', () => {
  it('share one value for each name two entries of a package export, in both module systems', async () => {
    const [cjs, esm] = await Promise.all([report('commonjs'), report('module')])
    expect(esm.differing).toEqual([])
    expect(cjs.differing).toEqual([])
    // The packages' error classes (params' ParameterNotFoundError, pg's ConnectError, ...) extend
    // core's WarmstartError in CommonJS as they do in ESM, and an option error is one.
    expect(esm.warmstartErrors.length).toBeGreaterThan(10)
    expect(cjs.warmstartErrors).toEqual(esm.warmstartErrors)
    expect(esm.optionErrorIsWarmstartError).toBe(true)
    expect(cjs.optionErrorIsWarmstartError).toBe(true)
  })
})
