import { closestName, invalidOption } from '@warmstart/core/internal'
import type { ClientConfig } from 'pg'

/**
 * The keys pg 8's `Client` reads from its config (client.js, connection-parameters.js). pg ignores
 * every other key, so a misspelt one (`databse`, `hostname`) connects to its defaults instead
 * (localhost, the OS user) and fails far from the typo.
 */
const CLIENT_KEYS = [
  'user',
  'database',
  'password',
  'port',
  'host',
  'connectionString',
  'keepAlive',
  'keepAliveInitialDelayMillis',
  'stream',
  'connection',
  'ssl',
  'sslnegotiation',
  'enableChannelBinding',
  'scramMaxIterations',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'query_timeout',
  'application_name',
  'fallback_application_name',
  'options',
  'client_encoding',
  'replication',
  'types',
  'binary',
  'pipeline',
  'Promise',
]

/** Names people reach for that pg spells otherwise, and pg.Pool options that pgConnection has its own of. */
const INSTEAD: Readonly<Record<string, string>> = {
  hostname: 'host',
  username: 'user',
  db: 'database',
  dbname: 'database',
  pass: 'password',
  pwd: 'password',
  sslmode: 'ssl (or sslmode in the connection string)',
  connectionTimeoutMillis:
    "pgConnection's connectTimeout (it sets pg's from that and the invocation's deadline)",
  max: "pgConnection's maxConnections",
  idleTimeoutMillis: "pgConnection's idleTimeout",
  maxLifetimeSeconds: "pgConnection's maxLifetime",
}

/** serverless-postgres's own options, which it takes in the same object as pg's config. */
const SERVERLESS_POSTGRES_KEYS = [
  'maxConnections',
  'maxConnsFreqMs',
  'manualMaxConnections',
  'strategy',
  'minConnectionIdleTimeSec',
  'maxIdleConnectionsToKill',
  'connUtilization',
  'debug',
  'capMs',
  'baseMs',
  'delayMs',
  'maxRetries',
  'processCountCacheEnabled',
  'processCountFreqMs',
  'allowCredentialsDiffing',
  'library',
  'plugin',
]

/**
 * Refuses a key of a pg `ClientConfig` that pg would ignore and that is a likely slip: a known
 * other spelling, a pg.Pool or serverless-postgres option, or one a typo away from a key pg
 * reads. Other unknown keys pass, since a later pg may read them.
 */
export function checkClientConfig(component: string, config: ClientConfig, where: string): void {
  for (const key of Object.keys(config)) {
    if (CLIENT_KEYS.includes(key)) continue
    if (SERVERLESS_POSTGRES_KEYS.includes(key))
      throw invalidOption(
        component,
        `${where}.${key}`,
        'is a serverless-postgres option, not read by pg; see "Moving from serverless-postgres" in docs/pg.md',
      )
    const instead = Object.hasOwn(INSTEAD, key) ? INSTEAD[key] : closestName(key, CLIENT_KEYS)
    if (instead === undefined) continue
    throw invalidOption(component, `${where}.${key}`, `is not read by pg (use ${instead})`)
  }
}
