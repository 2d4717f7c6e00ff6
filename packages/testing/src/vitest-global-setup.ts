import { startSharedServer } from './postgres/shared-server.js'

/**
 * vitest `globalSetup`: starts one PostgreSQL server for the whole run (or checks DATABASE_URL)
 * and stops it, removing its files, when the run ends.
 *
 * ```ts
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ['@warmstart/testing/vitest-global-setup'] } })
 * ```
 */
export default function setup(): Promise<() => Promise<void>> {
  return startSharedServer()
}
