import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const root = fileURLToPath(new URL('.', import.meta.url))
const packages = ['core', 'client', 'lru', 'params', 'pg', 'leak-guard', 'lifecycle', 'tmp-cache', 'testing']

// In-process tests import each package's source, so coverage is measured on src/. Code that runs in
// simulateLambda's child processes imports the built dist/ (the root `test` script builds first).
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@warmstart\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
      { find: /^@warmstart\/([a-z-]+)\/([a-z-]+)$/, replacement: `${root}packages/$1/src/$2.ts` },
    ],
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'test/**/*.test.ts',
      'examples/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    globalSetup: ['./packages/testing/src/vitest-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    execArgv: ['--expose-gc'],
    typecheck: {
      enabled: true,
      include: ['packages/*/test/**/*.test-d.ts'],
      tsconfig: './tsconfig.typetests.json',
    },
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['packages/testing/src/runner.ts'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: Object.fromEntries(
        packages.map((name) => [`packages/${name}/src/**`, { lines: 95, branches: 95 }]),
      ),
    },
  },
})
