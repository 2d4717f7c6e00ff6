import { type ChildProcess, spawn } from 'node:child_process'
import { WarmstartError } from '@warmstart/core'
import { INSTALL_HINT, missingLibraries } from './binaries.js'
import { OutputTail } from './output-tail.js'
import type { RunAs } from './system-user.js'

/** A PostgreSQL program running as a child process, with the tail of its log (stderr). */
export interface PostgresProcess {
  readonly child: ChildProcess
  readonly output: OutputTail
  /** Settles when the program has exited, with its exit code (null after a signal). */
  readonly exited: Promise<number | null>
  /** Rejects when the program could not be run at all (missing binary, no permission). */
  readonly failedToRun: Promise<never>
}

/** Runs a PostgreSQL program with English messages, so its log can be read for readiness. */
export function runPostgresProgram(path: string, args: string[], runAs: RunAs): PostgresProcess {
  const child = spawn(path, args, {
    ...runAs,
    env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = new OutputTail()
  child.stdout?.on('data', (chunk: Buffer) => output.append(chunk))
  child.stderr?.on('data', (chunk: Buffer) => output.append(chunk))
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  const failedToRun = new Promise<never>((_, reject) =>
    child.once('error', (error) => reject(cannotRun(path, runAs, error))),
  )
  failedToRun.catch(() => undefined)
  return { child, output, exited, failedToRun }
}

/** The error for a program that exited before it did its job, told apart by what it printed. */
export function programFailed(what: string, output: OutputTail, cause?: unknown): WarmstartError {
  const printed = output.toString()
  if (missingLibraries(printed)) return binariesError(`${what}: its shared libraries are missing`, cause)
  return new WarmstartError('ERR_POSTGRES_START', `startPostgres: ${what}. PostgreSQL said:\n${printed}`, {
    cause,
  })
}

/**
 * A program that could not be started. EACCES is a permission problem, not a missing install: as
 * root the program runs as another user, who may not reach it (findPostgresBinaries checks this
 * before, so this names the rare rest: a mount with noexec, a folder changed since).
 */
function cannotRun(path: string, runAs: RunAs, error: NodeJS.ErrnoException): WarmstartError {
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    const as = runAs.uid === undefined ? '' : ` as uid ${runAs.uid} (PostgreSQL refuses to run as root)`
    return new WarmstartError(
      'ERR_POSTGRES_ACCESS',
      `startPostgres: permission denied running ${path}${as}: that user must be able to enter every folder ` +
        'on the way to it and run it, and its file system must allow programs to run (not mounted noexec). ' +
        'Run the tests as a user other than root, make the folders readable, or set DATABASE_URL to use a running ' +
        'PostgreSQL server instead',
      { cause: error },
    )
  }
  return binariesError(`${path} could not be run`, error)
}

function binariesError(what: string, cause: unknown): WarmstartError {
  return new WarmstartError('ERR_POSTGRES_BINARIES', `startPostgres: ${what}. ${INSTALL_HINT}`, { cause })
}
