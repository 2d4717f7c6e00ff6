import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Simulation, simulateLambda } from '@warmstart/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

// The fixture runs in child processes and imports the built packages: build tmp-cache and
// testing first (`npm test` does).
const handler = `${fileURLToPath(new URL('./fixtures/handler.mjs', import.meta.url))}#handler`

let dir: string
let lambda: Simulation | undefined

beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'tmp-cache-lambda-')), 'cache')
})

afterEach(async () => {
  await lambda?.stop()
  lambda = undefined
  await rm(join(dir, '..'), { recursive: true, force: true })
})

describe('tmpCache under simulateLambda', () => {
  it('keeps values across invocations and across environments sharing /tmp', async () => {
    lambda = simulateLambda({ handler, env: { CACHE_DIR: dir } })
    await lambda.invoke({ action: 'set', key: 'user-42', value: 'avatar bytes' })
    const warm = await lambda.invoke({ action: 'get', key: 'user-42' })
    expect(warm.result).toMatchObject({ value: 'avatar bytes', stats: { hits: 1, entries: 1 } })
    // A new process on the same /tmp (a module loaded again) rebuilds its index from disk.
    await lambda.reap()
    const cold = await lambda.invoke({ action: 'get', key: 'user-42' })
    expect(cold.coldStart).toBe(true)
    expect(cold.result).toMatchObject({ value: 'avatar bytes', stats: { hits: 1, entries: 1 } })
  })

  it('an invocation that times out during set never leaves a value that is served', async () => {
    lambda = simulateLambda({ handler, env: { CACHE_DIR: dir }, timeout: '1s' })
    const killed = await lambda.invoke({ action: 'never-ending-set', key: 'report.pdf' })
    expect(killed).toMatchObject({ ok: false, timedOut: true })
    const left = await readdir(dir)
    expect(left).toHaveLength(1)
    expect(left[0]).toMatch(/\.tmp$/)

    const next = await lambda.invoke({ action: 'get', key: 'report.pdf' })
    expect(next.coldStart).toBe(true)
    expect(next.result).toMatchObject({ stats: { hits: 0, misses: 1, entries: 0 }, files: [] })
    expect((next.result as { value?: string }).value).toBeUndefined()
  })
})
