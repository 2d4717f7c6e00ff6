import { currentRequestId, type LambdaContextLike } from '@warmstart/core'
import { onShutdown } from '@warmstart/lifecycle'
import type { Client, QueryConfig, QueryResult, QueryResultRow } from 'pg'
import { noInvocationError } from './errors.js'
import { type PgConnectionOptions, resolveOptions } from './options.js'
import { ConnectionPool } from './pool.js'

export interface PgQueryOptions {
  /**
   * The statement may run twice: when the connection was lost under it (outside a transaction),
   * it is sent once more on a new connection. Never set it for a write that must happen once.
   */
  idempotent?: boolean
}

/** One validated PostgreSQL connection per environment (per invocation in flight under Managed Instances). */
export interface PgConnection {
  readonly name: string
  /** Runs a statement on this invocation's connection, opened, replaced or checked first as needed. */
  query<R extends QueryResultRow = QueryResultRow>(
    text: string | QueryConfig<unknown[]>,
    values?: unknown[],
    options?: PgQueryOptions,
  ): Promise<QueryResult<R>>
  /** This invocation's pg.Client, alive and checked. Keep it for this invocation only. */
  client(): Promise<Client>
  /**
   * Ends every connection (on shutdown), and every connect in flight: its socket is closed, and the
   * queries waiting for it fail with ConnectError `reason: 'ended'`. Resolves once none is open. A
   * use that starts afterwards opens a new one.
   */
  end(): Promise<void>
}

/** The part of a PgConnection that pgMiddleware drives: one lease per invocation. */
export interface InvocationScope {
  begin(requestId: string, context: LambdaContextLike): Promise<Client>
  finish(requestId: string): Promise<void>
}

const scopes = new WeakMap<PgConnection, InvocationScope>()

export function invocationScope(db: PgConnection): InvocationScope | undefined {
  return scopes.get(db)
}

// Code outside any invocation (module init, a script) shares one key.
const OUTSIDE_INVOCATIONS = ''

/**
 * Creates the connection lazily: nothing connects until the first query. See the package README
 * for what is checked when, and at what cost.
 */
export function pgConnection(options: PgConnectionOptions): PgConnection {
  const resolved = resolveOptions(options)
  const pool = new ConnectionPool(resolved)
  const db: PgConnection = {
    name: resolved.name,
    async query<R extends QueryResultRow = QueryResultRow>(
      text: string | QueryConfig<unknown[]>,
      values?: unknown[],
      queryOptions?: PgQueryOptions,
    ): Promise<QueryResult<R>> {
      const lease = await pool.enter(currentRequestId() ?? OUTSIDE_INVOCATIONS, false, undefined)
      try {
        return await pool.query<R>(lease, text, values, queryOptions?.idempotent === true)
      } finally {
        pool.leave(lease)
      }
    },
    async client(): Promise<Client> {
      const key = currentRequestId() ?? OUTSIDE_INVOCATIONS
      const existing = pool.lease(key)
      // A client handed out without pgMiddleware would hold its connection past the invocation.
      if (existing === undefined && resolved.maxConnections > 1) throw noInvocationError(resolved.name)
      const lease = await pool.enter(key, false, undefined)
      try {
        return await pool.client(lease)
      } finally {
        pool.leave(lease)
      }
    },
    end: () => pool.end(),
  }
  scopes.set(db, pool)
  if (resolved.closeOnShutdown) onShutdown(() => db.end())
  return db
}
