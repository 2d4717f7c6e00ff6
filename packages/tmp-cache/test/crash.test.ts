import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpCache } from '@warmstart/tmp-cache'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fileNameOf } from '../src/entry-file.js'

// The fixture imports @warmstart/tmp-cache by name: build the package first (`npm test` does).
const fixture = fileURLToPath(new URL('./fixtures/killed-writer.mjs', import.meta.url))

let root: string
let child: ChildProcess | undefined

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tmp-cache-crash-'))
})

afterEach(async () => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  child = undefined
  await rm(root, { recursive: true, force: true })
})

/** Starts the writer and resolves once it has written half of the value. */
function writerKilledHalfWay(dir: string, key: string, oldValue?: string): Promise<void> {
  const args = [fixture, dir, key, ...(oldValue === undefined ? [] : [oldValue])]
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  child = proc
  return new Promise((resolve, reject) => {
    let out = ''
    proc.stdout?.on('data', (data: Buffer) => {
      out += data.toString()
      if (out.includes('half\n')) {
        proc.once('exit', () => resolve())
        proc.kill('SIGKILL')
      }
    })
    proc.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited early (${code ?? signal}): ${out}`))
    })
  })
}

describe('a process killed in the middle of set', () => {
  it('never serves the half-written key, and the next process removes the temp file', async () => {
    const dir = join(root, 'cache')
    await writerKilledHalfWay(dir, 'model.onnx')
    const left = await readdir(dir)
    expect(left).toHaveLength(1)
    expect(left[0]).toMatch(new RegExp(`^${fileNameOf('model.onnx')}\\.\\d+-\\d+-\\d+-[0-9a-f]+\\.tmp$`))
    // Half-written: a good part of the 4 MB value is on disk, not all of it.
    const written = (await stat(join(dir, left[0]!))).size
    expect(written).toBeGreaterThan(1024 * 1024)
    expect(written).toBeLessThan(4 * 1024 * 1024)

    const next = tmpCache({ dir })
    expect(await next.get('model.onnx')).toBeUndefined()
    expect(await readdir(dir)).toEqual([])
    expect(next.stats()).toMatchObject({ entries: 0, bytes: 0, misses: 1 })
  })

  it('keeps serving the previous value of a key intact', async () => {
    const dir = join(root, 'cache')
    await writerKilledHalfWay(dir, 'config', 'previous value')
    const next = tmpCache({ dir })
    expect((await next.get('config'))?.toString()).toBe('previous value')
    expect(await readdir(dir)).toEqual([fileNameOf('config')])
  })
})
