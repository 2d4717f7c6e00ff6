import { WarmstartError } from '@warmstart/core'
import pg, { type Client } from 'pg'

/** The environment variable through which the vitest global setup hands its server to the workers. */
export const SHARED_URL_VARIABLE = 'WARMSTART_TEST_DATABASE_URL'

/** A server URL with the password left out, for messages. */
export function describeServer(url: string): string {
  const parsed = new URL(url)
  return `${parsed.hostname}:${portOf(parsed)}${parsed.pathname}`
}

/** The port of a server URL; PostgreSQL's default when it has none. */
export function portOf(url: URL): number {
  return Number(url.port || 5432)
}

/** The same server and credentials, connected to another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${encodeURIComponent(database)}`
  return parsed.toString()
}

/** The same server and database, logged in as another role. */
export function withCredentials(url: string, user: string, password: string): string {
  const parsed = new URL(url)
  parsed.username = encodeURIComponent(user)
  parsed.password = encodeURIComponent(password)
  return parsed.toString()
}

/** A connected client with an 'error' listener, so a server-side kill never crashes the process. */
export async function connect(url: string, applicationName: string): Promise<Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName })
  client.on('error', () => undefined)
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => undefined)
    throw new WarmstartError(
      'ERR_POSTGRES_CONNECT',
      `startPostgres: cannot connect to PostgreSQL at ${describeServer(url)}: ${(error as Error).message}`,
      { cause: error },
    )
  }
  return client
}

/** Runs `work` on a short-lived superuser connection. */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(url, 'warmstart-setup')
  try {
    return await work(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}
