// Cold start: what each package adds to a deployed bundle (esbuild, minified, as Lambda code is
// deployed) and how long importing that bundle takes in a fresh Node process, next to the
// anchors' equivalents. The AWS SDK (which the Lambda runtime ships) and pg (which every
// PostgreSQL option needs alike) are left external, so the figures are the libraries' own.
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { median } from './stats.mjs'

const benchDir = fileURLToPath(new URL('.', import.meta.url))
const outDir = `${benchDir}.tmp/cold-start`
const IMPORT_RUNS = 31

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

async function bundle(label, contents) {
  const result = await build({
    stdin: { contents, resolveDir: benchDir, loader: 'js', sourcefile: `${label}.mjs` },
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['@aws-sdk/*', 'pg', 'pg-native'],
    write: false,
    logLevel: 'silent',
  })
  return result.outputFiles[0].contents
}

function importOnce(file) {
  const script = `const t = process.hrtime.bigint(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6))`
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: benchDir }))
}

export async function run() {
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  const rows = []
  for (const [group, label, contents] of CASES) {
    const code = await bundle(label, contents)
    const file = `${outDir}/${label.replace(/[^a-z0-9]+/gi, '_')}.mjs`
    writeFileSync(file, code)
    rows.push({ group, label, bytes: code.length, gzip: gzipSync(code).length, file, imports: [] })
  }
  // Imports interleaved, one of each case per pass: a slow spell of the machine hits them all alike.
  for (let i = 0; i < IMPORT_RUNS; i++) for (const row of rows) row.imports.push(importOnce(row.file))
  for (const row of rows) row.importMs = median(row.imports)
  rmSync(outDir, { recursive: true, force: true })

  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`
  const lines = [
    `Each entry is bundled with esbuild (\`bundle, minify, platform node, format esm\`; \`@aws-sdk/*\` and \`pg\` external, as the runtime ships the SDK and every PostgreSQL option needs pg alike) and imported ${IMPORT_RUNS} times, each time in a fresh \`node\` process and in turn with the other entries; the import time is the median. Import time includes loading the external SDK or pg where a library loads it at import.`,
    '',
    '| job | package | minified | gzip | import (median) |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows.map(
      (r) => `| ${r.group} | ${r.label} | ${kb(r.bytes)} | ${kb(r.gzip)} | ${r.importMs.toFixed(1)} ms |`,
    ),
  ]
  return { title: 'Cold start: bundle size and import time', markdown: lines.join('\n') }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log((await run()).markdown)
}
