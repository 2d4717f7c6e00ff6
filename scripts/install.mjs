// Installs the workspace with the pinned pnpm, so that `npm test` and `npm run demo` work on a
// machine that has only Node and npm. Skipped when the lockfile has not changed since the last install.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'

const PNPM = 'pnpm@10.34.0'
const marker = 'node_modules/.pnpm/lock.yaml'
const upToDate =
  existsSync(marker) &&
  existsSync('pnpm-lock.yaml') &&
  readFileSync(marker, 'utf8').length > 0 &&
  existsSync('node_modules/.bin/vitest')

if (!upToDate || process.env.CI) {
  const frozen = existsSync('pnpm-lock.yaml') ? ['--frozen-lockfile'] : []
  execFileSync('npx', ['-y', PNPM, 'install', ...frozen, '--reporter=append-only'], {
    stdio: 'inherit',
  })
}
