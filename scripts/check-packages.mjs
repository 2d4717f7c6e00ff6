// Checks that every package is publishable as it stands: publint (package.json and files),
// are-the-types-wrong (ESM and CommonJS consumers both get types), and the bundled size.
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'

const bin = (name) => `node_modules/.bin/${name}`
let failed = false
for (const name of readdirSync('packages')) {
  const dir = `packages/${name}`
  for (const [tool, args] of [
    [bin('publint'), ['--strict', dir]],
    [bin('attw'), ['--pack', dir, '--profile', 'node16', '--format', 'ascii']],
  ]) {
    try {
      execFileSync(tool, args, { stdio: 'pipe' })
    } catch (error) {
      failed = true
      console.error(`${tool.split('/').pop()} failed for @warmstart/${name}:\n${error.stdout}${error.stderr}`)
    }
  }
}
try {
  execFileSync(bin('size-limit'), [], { stdio: 'inherit' })
} catch {
  failed = true
}
if (failed) process.exit(1)
console.log('packages: publint, attw and size-limit passed')
