import { EmbeddedServer, type EmbeddedServerOptions } from './embedded-server.js'
import { SHARED_URL_VARIABLE, withClient } from './server-url.js'

/** A server that startPostgres() may use, and what to do when the caller is done with it. */
export interface ServerLease {
  readonly url: string
  release(): Promise<void>
}

interface LocalServer {
  readonly server: Promise<EmbeddedServer>
  users: number
}

let local: LocalServer | undefined

/**
 * The server shared by the tests of this run: DATABASE_URL, else the one the vitest global setup
 * started, else (a script, another test runner) one embedded server for this process, started on
 * first use and stopped when its last user releases it.
 */
export async function leaseSharedServer(options: EmbeddedServerOptions = {}): Promise<ServerLease> {
  const url = process.env.DATABASE_URL || process.env[SHARED_URL_VARIABLE]
  if (url) return { url, release: async () => undefined }
  return leaseLocalServer(options)
}

async function leaseLocalServer(options: EmbeddedServerOptions): Promise<ServerLease> {
  if (!local) {
    const created: LocalServer = { server: EmbeddedServer.create(options), users: 0 }
    local = created
    // A failed start is not kept: the next caller tries again.
    created.server.catch(() => {
      local = undefined
    })
  }
  const entry = local
  // Counted before the await, so a release in between cannot stop the server under this caller.
  entry.users++
  const server = await entry.server
  return {
    url: server.url,
    release: async () => {
      entry.users--
      if (entry.users > 0) return
      local = undefined
      await server.destroy()
    },
  }
}

/**
 * vitest's global setup: one server for the whole run, handed to the test workers (which inherit
 * the environment) in WARMSTART_TEST_DATABASE_URL. With DATABASE_URL set, that server is checked
 * and used instead. Returns the teardown.
 */
export async function startSharedServer(): Promise<() => Promise<void>> {
  const configured = process.env.DATABASE_URL
  if (configured) {
    await withClient(configured, (client) => client.query('SELECT 1'))
    return async () => undefined
  }
  const server = await EmbeddedServer.create()
  process.env[SHARED_URL_VARIABLE] = server.url
  return async () => {
    delete process.env[SHARED_URL_VARIABLE]
    await server.destroy()
  }
}
