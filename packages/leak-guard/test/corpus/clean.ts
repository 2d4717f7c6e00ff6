import { createHash } from 'node:crypto'
import { registerRoot } from '@warmstart/core'
import { type ApiEvent, body } from './events.js'

/** A handler that uses warm state correctly: nothing it keeps comes from the request. */
export interface CleanCase {
  readonly name: string
  readonly handler: (event: ApiEvent, context: object) => unknown
}

type Globals = Record<string, unknown>
const g = globalThis as unknown as Globals

class DatabaseClient {
  readonly config = { host: 'db.internal.example.com', port: 5432, user: 'app_user', database: 'orders' }
  queries = 0
  query(sql: string, params: unknown[]): number {
    this.queries++
    return sql.length + params.length
  }
}
g.cleanDb = new DatabaseClient()
g.cleanConnection = { state: 'open', openedAt: 1_700_000_000_000, serverVersion: '18.4', lastUsedAt: 0 }
const configCache = new Map<string, unknown>([['/app/flags', { newCheckout: true, rollout: 0.25 }]])
registerRoot('params:ssm', configCache)
const secrets = new Map<string, string>([['db-password', 'application-secret-Zk29vX81']])
registerRoot('secrets:manager', secrets, (map) => map.entries())
const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+$/
g.cleanPatterns = { email: EMAIL_PATTERN }
const counters = { invocations: 0, errors: 0 }
g.cleanCounters = counters
g.cleanFlags = { checkoutV2: 'enabled', region: 'eu-west-1', build: '2024-06-01-rc' }
const products = new Map<string, unknown>()
registerRoot('lru:products', products)
const skuCache = new Map<string, number>()
g.cleanSkuCache = skuCache
let invocationCount = 0
const hashes = new Map<string, string>()
g.cleanHashes = hashes
g.cleanStatus = { last: 'ok', code: 1 }

export const cleanCases: CleanCase[] = [
  {
    name: 'database client reused',
    handler: (event) => (g.cleanDb as DatabaseClient).query('select 1', [body(event).userId]),
  },
  {
    name: 'connection object touched',
    handler: () => {
      ;(g.cleanConnection as { lastUsedAt: number }).lastUsedAt++
    },
  },
  { name: 'config cache read', handler: () => configCache.get('/app/flags') },
  { name: 'secrets cache registered as a root', handler: () => secrets.get('db-password')?.length },
  { name: 'compiled regex used on the email', handler: (event) => EMAIL_PATTERN.test(body(event).email) },
  {
    name: 'counters incremented',
    handler: () => {
      counters.invocations++
      invocationCount++
      return invocationCount
    },
  },
  {
    name: 'feature flags read',
    handler: () => (g.cleanFlags as { checkoutV2: string }).checkoutV2 === 'enabled',
  },
  {
    name: 'cache keyed by product, not by request',
    handler: () => products.set('product-000123', { name: 'Widget', price: 1299 }),
  },
  {
    name: 'cache keyed by sku from the body (not identifying)',
    handler: () => skuCache.set('ABC-1', (skuCache.get('ABC-1') ?? 0) + 1),
  },
  {
    name: 'hash of an application constant cached',
    handler: () => hashes.set('schema', createHash('sha256').update('schema-v3').digest('hex')),
  },
  {
    name: 'short and common values kept (status "ok", the number 1)',
    handler: () => {
      g.cleanStatus = { last: 'ok', code: 1, tenant: 'default' }
    },
  },
  {
    name: 'per-request state kept on the event only',
    handler: (event) => {
      ;(event as unknown as { parsed: unknown }).parsed = body(event)
    },
  },
]
