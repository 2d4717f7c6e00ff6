import type { ConnectionOptions } from 'node:tls'
import { Signer } from '@aws-sdk/rds-signer'
import type { PgConfigSource } from '@warmstart/pg'

export interface IamAuthOptions {
  /** The proxy's endpoint, as the token is signed for it. */
  hostname: string
  port: number
  username: string
  database: string
  region: string
  /**
   * TLS to the proxy. RDS Proxy refuses IAM logins without TLS (the token travels as a cleartext
   * password), and its certificates come from ACM, which Node trusts by default: `{ rejectUnauthorized: true }`
   * needs no CA bundle. (A DB instance reached directly needs the RDS CA bundle in `ca`.)
   */
  ssl: ConnectionOptions | false
  /** Default: the Lambda role's credentials, from the environment. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
}

/**
 * pgConnection's config with a fresh IAM auth token at every connect. A token is a SigV4-presigned
 * URL computed locally (no network call) and valid for 15 minutes, only for logging in: an open
 * connection outlives it, so the connection's maxLifetime, not the token, bounds how long it lives.
 */
export function iamAuthConfig(options: IamAuthOptions): PgConfigSource {
  const signer = new Signer({
    hostname: options.hostname,
    port: options.port,
    username: options.username,
    region: options.region,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  })
  return async () => ({
    host: options.hostname,
    port: options.port,
    user: options.username,
    database: options.database,
    password: await signer.getAuthToken(),
    ssl: options.ssl,
    application_name: 'rds-proxy-iam-example',
  })
}
