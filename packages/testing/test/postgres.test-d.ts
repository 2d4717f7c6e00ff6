import {
  type BackendFilter,
  startPostgres,
  type TestPostgres,
  type TestPostgresConfig,
} from '@warmstart/testing'
import setup from '@warmstart/testing/vitest-global-setup'
import type pg from 'pg'
import { expectTypeOf, test } from 'vitest'

test('startPostgres takes an optional { dedicated } and resolves to a TestPostgres', () => {
  expectTypeOf(startPostgres).parameter(0).toEqualTypeOf<{ dedicated?: boolean } | undefined>()
  expectTypeOf(startPostgres).returns.resolves.toEqualTypeOf<TestPostgres>()
  // @ts-expect-error dedicated is a boolean
  startPostgres({ dedicated: 'yes' })
})

test('TestPostgres: config, url, admin client and fault helpers', () => {
  expectTypeOf<TestPostgres['config']>().toEqualTypeOf<TestPostgresConfig>()
  expectTypeOf<TestPostgresConfig>().toEqualTypeOf<{
    host: string
    port: number
    user: string
    password: string
    database: string
  }>()
  expectTypeOf<TestPostgres['url']>().toBeString()
  expectTypeOf<TestPostgres['admin']>().toEqualTypeOf<pg.Client>()
  expectTypeOf<TestPostgres['terminateBackends']>().toEqualTypeOf<
    (filter?: BackendFilter) => Promise<number>
  >()
  expectTypeOf<TestPostgres['connectionCount']>().toEqualTypeOf<(filter?: BackendFilter) => Promise<number>>()
  expectTypeOf<BackendFilter>().toEqualTypeOf<{ user?: string; applicationName?: string }>()
  expectTypeOf<TestPostgres['setPassword']>().toEqualTypeOf<
    (user: string, password: string) => Promise<void>
  >()
  for (const method of ['restart', 'stopServer', 'startServer', 'stop'] as const) {
    expectTypeOf<TestPostgres[typeof method]>().toEqualTypeOf<() => Promise<void>>()
  }
  expectTypeOf<TestPostgres>().not.toHaveProperty('server')
})

test('the vitest global setup returns its teardown', () => {
  expectTypeOf(setup).toEqualTypeOf<() => Promise<() => Promise<void>>>()
})
