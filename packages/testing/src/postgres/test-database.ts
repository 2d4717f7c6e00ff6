import { randomBytes } from 'node:crypto'
import type { Client } from 'pg'
import { withClient } from './server-url.js'

/** A database owned by a login role of the same name, made for one startPostgres() call. */
export interface TestDatabase {
  readonly database: string
  readonly user: string
  readonly password: string
}

/** A password that needs no escaping in a URL and has enough entropy for any test. */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url')
}

/** Creates a fresh role with a SCRAM password and a fresh database it owns. */
export async function createTestDatabase(superuserUrl: string): Promise<TestDatabase> {
  const name = `warmstart_${randomBytes(6).toString('hex')}`
  const created = { database: name, user: name, password: randomPassword() }
  await withClient(superuserUrl, async (client) => {
    await client.query(`CREATE ROLE ${client.escapeIdentifier(name)} LOGIN`)
    await setRolePassword(client, name, created.password)
    await client.query(
      `CREATE DATABASE ${client.escapeIdentifier(name)} OWNER ${client.escapeIdentifier(name)}`,
    )
  })
  return created
}

/** Drops the database (disconnecting whoever is still on it) and its role. */
export async function dropTestDatabase(superuserUrl: string, created: TestDatabase): Promise<void> {
  await withClient(superuserUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(created.database)} WITH (FORCE)`)
    await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(created.user)}`)
  })
}

/**
 * Sets a role's password, hashed with SCRAM whatever the server's default. ALTER ROLE takes no
 * parameters, so the password is sent as an escaped literal; it is never put in a message.
 */
export async function setRolePassword(client: Client, user: string, password: string): Promise<void> {
  await client.query(`SET password_encryption = 'scram-sha-256'`)
  await client.query(`ALTER ROLE ${client.escapeIdentifier(user)} PASSWORD ${client.escapeLiteral(password)}`)
}
