import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WarmstartError } from '@warmstart/core'

/** This file, from the ESM build (import.meta.url), the CommonJS build (__filename) or src/ in tests. */
function thisFile(): string {
  return typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url)
}

/** The directory of the installed @warmstart/testing package (found through its own exports map). */
export function testingPackageDir(from: string = thisFile()): string {
  return dirname(createRequire(from).resolve('@warmstart/testing/package.json'))
}

/**
 * The built runner each execution environment runs (`dist/runner.js`). Tests import the package
 * from src/, but the child process needs JavaScript: when the build is missing, say so.
 */
export function runnerPath(packageDir: string = testingPackageDir()): string {
  const path = join(packageDir, 'dist', 'runner.js')
  if (!existsSync(path)) {
    throw new WarmstartError(
      'ERR_RUNNER_NOT_BUILT',
      `simulateLambda: the runner ${path} is not built: run the build first (pnpm --filter @warmstart/testing build)`,
    )
  }
  return path
}
