import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startPostgres, type TestPostgres } from '@warmstart/testing'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Bundles a handler the way Lambda users do (esbuild, platform node, everything bundled) from the
// BUILT package, and runs each bundle in a child process against a real server.
const run = promisify(execFile)
const packageDir = fileURLToPath(new URL('..', import.meta.url))
const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"

let server: TestPostgres
let dir: string

beforeAll(async () => {
  server = await startPostgres()
  dir = await mkdtemp(path.join(tmpdir(), 'pg-bundle-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
  await server?.stop()
})

const ENTRY = `
import { pgConnection } from '@warmstart/pg'
const db = pgConnection({ config: JSON.parse(process.env.PG_CONFIG) })
try {
  const { rows } = await db.query('SELECT 1 AS one')
  console.log(JSON.stringify({ one: rows[0].one }))
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message }))
} finally {
  await db.end()
}
`

async function bundle(format: 'esm' | 'cjs', banner: boolean): Promise<Record<string, unknown>> {
  const name = `${format}-${banner ? 'banner' : 'plain'}`
  const entry = path.join(dir, `${name}-entry.mjs`)
  // CommonJS has no top-level await: the same handler wrapped in an async function.
  await writeFile(
    entry,
    format === 'esm' ? ENTRY : `${ENTRY.replace(/^(import .*)$/m, '$1\n;(async () => {')}})()`,
  )
  const outfile = path.join(dir, `${name}.${format === 'esm' ? 'mjs' : 'cjs'}`)
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    logLevel: 'silent',
    // The built package, as an app gets it from the registry; its own imports resolve from there.
    alias: { '@warmstart/pg': path.join(packageDir, format === 'esm' ? 'dist/index.js' : 'dist/index.cjs') },
    ...(banner ? { banner: { js: BANNER } } : {}),
  })
  const { stdout } = await run(process.execPath, [outfile], {
    env: { ...process.env, PG_CONFIG: JSON.stringify(server.config) },
  })
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>
}

describe('bundled with esbuild', () => {
  it('an ESM bundle without a require fails at the first connect, at once, with a typed error naming the fix', async () => {
    const outcome = await bundle('esm', false)
    expect(outcome.code).toBe('ERR_PG_ESM_BUNDLE')
    expect(outcome.message).toContain('createRequire')
  })

  it('an ESM bundle with the createRequire banner connects', async () => {
    expect(await bundle('esm', true)).toEqual({ one: 1 })
  })

  it('a CommonJS bundle connects', async () => {
    expect(await bundle('cjs', false)).toEqual({ one: 1 })
  })
})

describe('what a bundle carries', () => {
  /** The handler as a Lambda user deploys it: minified, pg external (the function's own node_modules). */
  async function minified(): Promise<string> {
    const result = await build({
      stdin: { contents: ENTRY, resolveDir: dir, loader: 'js' },
      bundle: true,
      minify: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      external: ['pg', 'pg-native'],
      alias: { '@warmstart/pg': path.join(packageDir, 'dist/index.js') },
    })
    return result.outputFiles[0]?.text ?? ''
  }

  it("holds only the process-wide state pgConnection uses, not the rest of core's and lifecycle's", async () => {
    const code = await minified()
    const state = [...code.matchAll(/"(core|lifecycle):[a-z-]+"/g)].map((match) => match[0]).sort()
    // The invocation tracker (deadlines) and the shutdown registry (closeOnShutdown): module-level
    // state of the modules it does not use (the lifecycle's environment and background work, the
    // leak guard's roots) is marked pure, so that the bundler drops it.
    expect(state).toEqual(['"core:invocations"', '"lifecycle:shutdown"'])
  })

  it("holds none of the module-level values of core's and lifecycle's parts that pgConnection does not use", async () => {
    const code = await minified()
    // lifecycle's middleware (its empty settle report, its hidden mark of ended requests) and
    // core's size units: each is a value made at module load, which a bundler keeps unless it can
    // tell that making it has no effect.
    expect(code).not.toContain('waitedMs')
    expect(code).not.toContain('isExtensible')
    expect(code).not.toMatch(/kb:/)
  })
})
