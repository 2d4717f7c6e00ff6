import type { SecretsManager } from '@warmstart/params'
import type { PgConfigSource } from '@warmstart/pg'
import type { ClientConfig } from 'pg'

/** The secret as RDS writes it when it manages the password (and rotates it). */
export interface RdsSecret {
  username: string
  password: string
  host: string
  port: number
  dbname: string
}

/**
 * pgConnection's config from an RDS secret. The secret is read at connect only; when the server
 * refuses the cached password (28P01, after a rotation) pgConnection asks again with `refresh`, and
 * the secret is fetched anew, once.
 */
export function rdsSecretConfig(
  secrets: SecretsManager,
  secretId: string,
  extra: Omit<ClientConfig, 'user' | 'password' | 'host' | 'port' | 'database'> = {},
): PgConfigSource {
  return async ({ refresh }) => {
    const secret = refresh
      ? await secrets.refresh<RdsSecret>(secretId, { transform: 'json' })
      : await secrets.get<RdsSecret>(secretId, { transform: 'json' })
    return {
      ...extra,
      user: secret.username,
      password: secret.password,
      host: secret.host,
      port: Number(secret.port),
      database: secret.dbname,
    }
  }
}
