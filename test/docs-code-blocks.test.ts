// Every TypeScript code block in the docs and the package READMEs is type-checked against the
// packages' sources, so the documentation cannot drift from the code. A block is a module of its
// own; a block fenced as ```ts fragment is shown but not checked (use it rarely, for partial code).
// A block whose first line names its file (`// src/handler.ts`, `// handler.mjs`) is written at
// that path, next to the other named blocks of the same page, so that one block can import
// another (`import { handler } from '../src/handler.js'`). Named JavaScript blocks are written for
// such imports to resolve; they are not checked themselves.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const outDir = join(root, '.tmp', 'docs-check')
const FENCE = /^```(ts|typescript|js|javascript)(?![\w-])([^\n]*)\n([\s\S]*?)^```/gm
/** `// src/handler.ts` on a block's first line: a relative path with a script extension. */
const FILE_NAME = /^\/\/ ((?:[\w-]+\/)*[\w.-]+\.(?:ts|mts|cts|js|mjs|cjs))\b/

function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md') && !file.startsWith('api'))
    .map((file) => join(root, 'docs', file))
  const readmes = readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name, 'README.md'))
  return [join(root, 'README.md'), ...docs, ...readmes].filter((file) => {
    try {
      readFileSync(file)
      return true
    } catch {
      return false
    }
  })
}

interface Block {
  readonly source: string
  readonly line: number
  readonly file: string
  readonly typescript: boolean
  /** The path the block's first line gives it, if any. */
  readonly name: string | undefined
}

function extractBlocks(file: string): Block[] {
  const text = readFileSync(file, 'utf8')
  const blocks: Block[] = []
  for (const match of text.matchAll(FENCE)) {
    if ((match[2] ?? '').includes('fragment')) continue
    const source = match[3] ?? ''
    const line = text.slice(0, match.index).split('\n').length + 1
    const typescript = match[1] === 'ts' || match[1] === 'typescript'
    const name = FILE_NAME.exec(source)?.[1]
    if (!typescript && name === undefined) continue
    blocks.push({ source, line, file, typescript, name })
  }
  return blocks
}

/** Writes a page's blocks into a directory of its own; returns the TypeScript ones by path. */
function writeBlocks(file: string, origin: Map<string, Block>): void {
  const pageDir = join(outDir, relative(root, file).replace(/[^a-z0-9]+/gi, '_'))
  const taken = new Set<string>()
  extractBlocks(file).forEach((block, index) => {
    const named = block.name === undefined ? undefined : normalize(block.name)
    const usable = named !== undefined && !named.startsWith('..') && !taken.has(named)
    const path = join(pageDir, usable ? named : `block-${index + 1}.${block.typescript ? 'ts' : 'mjs'}`)
    if (usable) taken.add(named)
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, block.typescript ? `${block.source}\nexport {}\n` : block.source)
    if (block.typescript) origin.set(path, block)
  })
}

/**
 * Where the blocks' imports resolve: each package's entry points to its sources (subpath exports
 * such as `@warmstart/testing/vitest-global-setup` included), and the anchors a migration guide
 * shows (`@middy/ssm`, Powertools Parameters) and `@aws-sdk/rds-signer` from the workspaces that
 * install them (bench/, examples/).
 */
function pathMappings(): Record<string, string[]> {
  const paths: Record<string, string[]> = { '@warmstart/*': ['packages/*/src/index.ts'] }
  for (const name of readdirSync(join(root, 'packages'))) {
    let manifest: { name?: string; exports?: Record<string, unknown> }
    try {
      manifest = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'))
    } catch {
      continue
    }
    for (const subpath of Object.keys(manifest.exports ?? {})) {
      if (subpath === '.' || subpath.endsWith('.json')) continue
      paths[`${manifest.name}/${subpath.slice(2)}`] = [`packages/${name}/src/${subpath.slice(2)}.ts`]
    }
  }
  paths['@middy/ssm'] = ['bench/node_modules/@middy/ssm/index.d.ts']
  paths['@middy/secrets-manager'] = ['bench/node_modules/@middy/secrets-manager/index.d.ts']
  paths['@aws-lambda-powertools/parameters/*'] = [
    'bench/node_modules/@aws-lambda-powertools/parameters/lib/esm/*/index.d.ts',
  ]
  paths['@aws-sdk/rds-signer'] = ['examples/node_modules/@aws-sdk/rds-signer/dist-types/index.d.ts']
  return paths
}

it('type-checks every TypeScript block in the docs and READMEs', () => {
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  const origin = new Map<string, Block>()
  for (const file of markdownFiles()) writeBlocks(file, origin)
  expect(origin.size).toBeGreaterThan(0)

  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    // Named JavaScript blocks (a handler module a test imports) resolve, with inferred types.
    allowJs: true,
    checkJs: false,
    types: ['node', 'aws-lambda'],
    baseUrl: root,
    paths: pathMappings(),
  }
  const program = ts.createProgram([...origin.keys()], options)
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file && origin.has(diagnostic.file.fileName))
    .map((diagnostic) => {
      const block = origin.get(diagnostic.file!.fileName)!
      const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0)
      return `${relative(root, block.file)}:${block.line + line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`
    })
  rmSync(outDir, { recursive: true, force: true })
  expect(problems).toEqual([])
}, 120_000)

/**
 * Pages whose named blocks make one project that is run, not only type-checked: the handler of
 * getting-started.md with the test of testing.md (a real PostgreSQL, the local AWS endpoint,
 * simulateLambda running the esbuild bundle), and the tests of the leak recipe. They run in a
 * vitest process of their own, as a user would run them, against the built packages.
 */
const RUN_PAGES = ['docs/getting-started.md', 'docs/testing.md', 'docs/recipes/testing-for-leaks.md']

it('runs the handler and tests of the getting-started, testing and leak pages as written', () => {
  const project = join(root, '.tmp', 'docs-run')
  rmSync(project, { recursive: true, force: true })
  const written: string[] = []
  for (const page of RUN_PAGES) {
    for (const block of extractBlocks(join(root, page))) {
      if (block.name === undefined) continue
      const path = join(project, normalize(block.name))
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, block.source)
      written.push(block.name)
    }
  }
  expect(written).toEqual(
    expect.arrayContaining([
      'src/handler.ts',
      'vitest.config.ts',
      'test/handler.test.ts',
      'test/profile.test.ts',
    ]),
  )
  // A clean environment: not this run's vitest worker state, coverage or database.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !name.startsWith('VITEST') && name !== 'NODE_V8_COVERAGE' && !name.startsWith('WARMSTART_TEST'),
    ),
  )
  const run = spawnSync(
    process.execPath,
    [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', project],
    {
      cwd: project,
      env: { ...env, NODE_ENV: 'test' },
      encoding: 'utf8',
      timeout: 240_000,
    },
  )
  const output = `${run.stdout}${run.stderr}`
  rmSync(project, { recursive: true, force: true })
  expect(run.status, output).toBe(0)
  for (const file of ['test/handler.test.ts', 'test/profile.test.ts', 'test/last-caller.test.ts']) {
    expect(output).toContain(file)
  }
}, 300_000)
