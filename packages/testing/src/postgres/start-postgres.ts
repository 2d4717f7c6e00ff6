import { WarmstartError } from '@warmstart/core'
import { describeValue, invalidOption } from '@warmstart/core/internal'
import type { Client } from 'pg'
import { type BackendFilter, connectionCount, terminateBackends } from './backends.js'
import { EmbeddedServer } from './embedded-server.js'
import { connect, portOf, withCredentials, withDatabase } from './server-url.js'
import { leaseSharedServer, type ServerLease } from './shared-server.js'
import { createTestDatabase, dropTestDatabase, setRolePassword, type TestDatabase } from './test-database.js'

export interface StartPostgresOptions {
  /**
   * A private server (about 1 s to start) instead of the shared one, for tests that restart or
   * stop the server. Default false.
   */
  dedicated?: boolean
}

/** How the test's own role reaches its own database. */
export interface TestPostgresConfig {
  host: string
  port: number
  user: string
  password: string
  database: string
}

/** A fresh database on a real PostgreSQL server, with the helpers tests need to cause faults. */
export interface TestPostgres {
  /** A fresh database owned by a fresh login role with a SCRAM password. */
  readonly config: TestPostgresConfig
  /** The same as a URL: postgres://user:password@host:port/database. */
  readonly url: string
  /** A superuser connection to the test database; a new client after startServer() or restart(). */
  readonly admin: Client
  /** Terminates the test database's client backends (not admin's); resolves when they are gone. */
  terminateBackends(filter?: BackendFilter): Promise<number>
  /** The number of the test database's client backends (admin's excluded). */
  connectionCount(filter?: BackendFilter): Promise<number>
  /** Changes a role's password (SCRAM); existing sessions stay, new logins need the new one. */
  setPassword(user: string, password: string): Promise<void>
  /** Dedicated only: stops the server and starts it again on the same port. */
  restart(): Promise<void>
  /** Dedicated only: stops the server; connections are refused until startServer(). */
  stopServer(): Promise<void>
  /** Dedicated only: starts a stopped server on the same port. */
  startServer(): Promise<void>
  /** Drops the database and role (or stops a dedicated server and removes its files). */
  stop(): Promise<void>
}

const ADMIN_APPLICATION = 'warmstart-admin'

/**
 * A fresh database and role for one test file, on the run's shared server (DATABASE_URL, the
 * vitest global setup's server, or one started for this process), or on a dedicated server.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const dedicated = options.dedicated ?? false
  if (typeof dedicated !== 'boolean') {
    throw invalidOption('startPostgres', 'dedicated', `must be a boolean, got ${describeValue(dedicated)}`)
  }
  let server: EmbeddedServer | undefined
  let lease: ServerLease
  if (dedicated) {
    const created = await EmbeddedServer.create()
    server = created
    lease = { url: created.url, release: () => created.destroy() }
  } else {
    lease = await leaseSharedServer()
  }
  try {
    const database = await createTestDatabase(lease.url)
    const adminUrl = withDatabase(lease.url, database.database)
    return new PostgresForTest(lease, database, adminUrl, await connect(adminUrl, ADMIN_APPLICATION), server)
  } catch (error) {
    await lease.release()
    throw error
  }
}

class PostgresForTest implements TestPostgres {
  readonly config: TestPostgresConfig
  readonly url: string
  #admin: Client
  /** Set by stopServer(): the admin connection is gone until startServer() makes a new one. */
  #serverStopped = false
  #stopped = false

  constructor(
    private readonly lease: ServerLease,
    private readonly database: TestDatabase,
    private readonly adminUrl: string,
    admin: Client,
    private readonly server: EmbeddedServer | undefined,
  ) {
    this.#admin = admin
    this.url = withCredentials(adminUrl, database.user, database.password)
    const parsed = new URL(adminUrl)
    this.config = {
      host: parsed.hostname,
      port: portOf(parsed),
      user: database.user,
      password: database.password,
      database: database.database,
    }
  }

  get admin(): Client {
    return this.#admin
  }

  async terminateBackends(filter: BackendFilter = {}): Promise<number> {
    return terminateBackends(this.queryableAdmin('terminateBackends'), filter)
  }

  async connectionCount(filter: BackendFilter = {}): Promise<number> {
    return connectionCount(this.queryableAdmin('connectionCount'), filter)
  }

  async setPassword(user: string, password: string): Promise<void> {
    if (typeof user !== 'string' || user === '') {
      throw invalidOption('setPassword', 'user', `must be a role name, got ${describeValue(user)}`)
    }
    if (typeof password !== 'string' || password === '') {
      throw invalidOption('setPassword', 'password', 'must be a non-empty string')
    }
    const admin = this.queryableAdmin('setPassword')
    try {
      await setRolePassword(admin, user, password)
    } catch (error) {
      throw new WarmstartError(
        'ERR_POSTGRES_SET_PASSWORD',
        `setPassword: the password of role "${user}" was not changed: ${(error as Error).message}`,
        { cause: error },
      )
    }
  }

  async restart(): Promise<void> {
    this.dedicatedServer('restart')
    await this.stopServer()
    await this.startServer()
  }

  async stopServer(): Promise<void> {
    const server = this.dedicatedServer('stopServer')
    this.#serverStopped = true
    await this.#admin.end()
    await server.stop()
  }

  async startServer(): Promise<void> {
    const server = this.dedicatedServer('startServer')
    await server.start()
    if (!this.#serverStopped) return
    this.#admin = await connect(this.adminUrl, ADMIN_APPLICATION)
    this.#serverStopped = false
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    try {
      // Ending a client whose connection is already gone resolves at once.
      await this.#admin.end()
      if (!this.server) await dropTestDatabase(this.lease.url, this.database)
    } finally {
      await this.lease.release()
    }
  }

  private queryableAdmin(method: string): Client {
    this.assertNotStopped(method)
    if (this.#serverStopped) {
      throw new WarmstartError(
        'ERR_POSTGRES_SERVER_STOPPED',
        `${method}: the dedicated server is stopped; call startServer() first`,
      )
    }
    return this.#admin
  }

  private dedicatedServer(method: string): EmbeddedServer {
    this.assertNotStopped(method)
    if (!this.server) {
      throw new WarmstartError(
        'ERR_NOT_DEDICATED',
        `${method}: this database is on the server shared by the whole test run; ` +
          'use startPostgres({ dedicated: true }) to restart or stop a server',
      )
    }
    return this.server
  }

  private assertNotStopped(method: string): void {
    if (this.#stopped) {
      throw new WarmstartError('ERR_POSTGRES_STOPPED', `${method}: stop() was already called`)
    }
  }
}
