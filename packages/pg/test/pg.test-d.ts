import middy from '@middy/core'
import type { WarmstartEvent } from '@warmstart/core'
import {
  type ConnectError,
  type PgConnection,
  pgConnection,
  pgMiddleware,
  type TransactionStatus,
} from '@warmstart/pg'
import type { Context } from 'aws-lambda'
import type { Client, QueryResult } from 'pg'
import { describe, expectTypeOf, it } from 'vitest'

describe('@warmstart/pg types', () => {
  it('takes a config, a connection string or a provider of one', () => {
    expectTypeOf(pgConnection({ config: { host: 'h' } })).toEqualTypeOf<PgConnection>()
    pgConnection({ config: 'postgres://h/db' })
    pgConnection({ config: async ({ refresh }) => ({ host: refresh ? 'a' : 'b' }) })
    // @ts-expect-error a number is not a config
    pgConnection({ config: 5 })
  })

  it('types query rows and the client', () => {
    const db = pgConnection({ config: {} })
    expectTypeOf(db.query<{ id: number }>('SELECT 1 AS id')).toEqualTypeOf<
      Promise<QueryResult<{ id: number }>>
    >()
    expectTypeOf(db.client()).toEqualTypeOf<Promise<Client>>()
    db.query('SELECT $1', [1], { idempotent: true })
  })

  it('declares its events and errors', () => {
    expectTypeOf<Extract<WarmstartEvent, { type: 'pg.rollback' }>['status']>().toEqualTypeOf<'T' | 'E'>()
    expectTypeOf<Extract<WarmstartEvent, { type: 'pg.reconnect' }>['reason']>().toEqualTypeOf<
      'dead' | 'validate-failed' | 'max-lifetime'
    >()
    expectTypeOf<ConnectError['attempts']>().toEqualTypeOf<number>()
    expectTypeOf<TransactionStatus>().toEqualTypeOf<'I' | 'T' | 'E'>()
  })

  it('makes a middleware', () => {
    const db = pgConnection({ config: {} })
    const handler = middy(async (_event: unknown, _context: Context) => 1).use(
      pgMiddleware({ db, setToContext: 'db' }),
    )
    expectTypeOf(handler({}, {} as Context)).resolves.toEqualTypeOf<number>()
    // @ts-expect-error setToContext is a boolean or a name
    pgMiddleware({ db, setToContext: 1 })
  })
})
