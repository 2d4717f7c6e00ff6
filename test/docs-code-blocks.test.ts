// Every TypeScript code block in the docs and the package READMEs is type-checked against the
// packages' sources, so the documentation cannot drift from the code. A block is a module of its
// own; a block fenced as ```ts fragment is shown but not checked (use it rarely, for partial code).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const outDir = join(root, '.tmp', 'docs-check')
const FENCE = /^```(ts|typescript)([^\n]*)\n([\s\S]*?)^```/gm

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
}

function extractBlocks(file: string): Block[] {
  const text = readFileSync(file, 'utf8')
  const blocks: Block[] = []
  for (const match of text.matchAll(FENCE)) {
    if ((match[2] ?? '').includes('fragment')) continue
    const line = text.slice(0, match.index).split('\n').length + 1
    blocks.push({ source: match[3] ?? '', line, file })
  }
  return blocks
}

it('type-checks every TypeScript block in the docs and READMEs', () => {
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  const origin = new Map<string, Block>()
  for (const file of markdownFiles()) {
    extractBlocks(file).forEach((block, index) => {
      const name = `${relative(root, file).replace(/[^a-z0-9]+/gi, '_')}_${index + 1}.ts`
      const path = join(outDir, name)
      writeFileSync(path, `${block.source}\nexport {}\n`)
      origin.set(path, block)
    })
  }
  expect(origin.size).toBeGreaterThan(0)

  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node', 'aws-lambda'],
    baseUrl: root,
    paths: { '@warmstart/*': ['packages/*/src/index.ts'] },
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
