import { describeValue, invalidOption } from '@warmstart/core/internal'
import type { Client } from 'pg'

/** Which client backends of the test database a helper acts on; all of them when empty. */
export interface BackendFilter {
  /** Only connections logged in as this role. */
  user?: string
  /** Only connections with this `application_name`. */
  applicationName?: string
}

/** How long pg_terminate_backend waits for each backend to be gone. */
const TERMINATE_WAIT_MS = 10_000

// The calling (admin) connection is left out; background workers are not client backends.
const MATCHING_BACKENDS = `
  FROM pg_stat_activity
  WHERE datname = current_database()
    AND pid <> pg_backend_pid()
    AND backend_type = 'client backend'
    AND ($1::text IS NULL OR usename = $1)
    AND ($2::text IS NULL OR application_name = $2)`

function filterParameters(method: string, filter: BackendFilter): [string | null, string | null] {
  for (const key of ['user', 'applicationName'] as const) {
    const value = filter[key]
    if (value !== undefined && typeof value !== 'string') {
      throw invalidOption(method, `filter.${key}`, `must be a string, got ${describeValue(value)}`)
    }
  }
  return [filter.user ?? null, filter.applicationName ?? null]
}

/**
 * Terminates the matching backends and resolves once each is gone (pg_terminate_backend with a
 * timeout waits for the process to exit), with the number actually terminated.
 */
export async function terminateBackends(admin: Client, filter: BackendFilter): Promise<number> {
  const { rows } = await admin.query<{ terminated: boolean }>(
    `SELECT pg_terminate_backend(pid, ${TERMINATE_WAIT_MS}) AS terminated ${MATCHING_BACKENDS}`,
    filterParameters('terminateBackends', filter),
  )
  return rows.filter((row) => row.terminated).length
}

/** The number of matching client backends connected to the test database now. */
export async function connectionCount(admin: Client, filter: BackendFilter): Promise<number> {
  const { rows } = await admin.query<{ count: number }>(
    `SELECT count(*)::int AS count ${MATCHING_BACKENDS}`,
    filterParameters('connectionCount', filter),
  )
  return rows[0]!.count
}
