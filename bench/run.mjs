// Runs every benchmark in bench/ one after the other in this process and writes
// docs/benchmarks.md with their figures and the machine they ran on.
// Usage: node bench/run.mjs [name ...]   (names filter by file name, e.g. `node bench/run.mjs pg`)
import { execFileSync } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const filters = process.argv.slice(2)
const files = readdirSync(here)
  .filter((file) => file.endsWith('.bench.mjs'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort()

const sections = []
for (const file of files) {
  process.stderr.write(`bench: ${file}\n`)
  const { run } = await import(pathToFileURL(`${here}${file}`).href)
  const started = Date.now()
  const { title, markdown } = await run()
  sections.push(
    `## ${title}\n\n${markdown.trim()}\n\n_Source: \`bench/${file}\`, ${((Date.now() - started) / 1000).toFixed(1)} s._\n`,
  )
}

const cpu = cpus()[0]?.model ?? 'unknown CPU'
const header = `# Benchmarks

Measured side by side in one run on one machine; the machine is noisy, so each figure is a
median of several rounds and comparisons are ratios taken in the same run. Reproduce with
\`npm run build && node bench/run.mjs\` (or \`node bench/run.mjs <name>\` for one file).

- Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, ${process.platform}-${process.arch}
- Date: ${new Date().toISOString().slice(0, 10)}
`
if (filters.length === 0) {
  const target = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url))
  writeFileSync(target, `${header}\n${sections.join('\n')}`)
  // Aligned as the linter wants it, so that a fresh run leaves CI green.
  execFileSync(fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url)), [
    'format',
    '--write',
    target,
  ])
  process.stderr.write('bench: wrote docs/benchmarks.md\n')
} else {
  process.stdout.write(sections.join('\n'))
}
