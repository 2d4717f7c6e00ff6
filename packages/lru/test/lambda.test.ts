import { fileURLToPath } from 'node:url'
import { type Simulation, simulateLambda } from '@warmstart/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The fixture imports the built package: `pnpm --filter @warmstart/lru build` first.
const handler = `${fileURLToPath(new URL('fixtures/ttl-handler.mjs', import.meta.url))}#handler`
const TTL_MS = 300

let lambda: Simulation

beforeAll(() => {
  lambda = simulateLambda({ handler, env: { CACHE_TTL_MS: String(TTL_MS) }, maxEnvironments: 1 })
})
afterAll(async () => {
  await lambda?.stop()
})

describe('boundedLru TTL across a real freeze (simulateLambda)', () => {
  it('serves an entry while warm, and misses on the first read after a freeze longer than the TTL', async () => {
    const stored = await lambda.invoke({ action: 'set', key: 'flags', value: 'on' })
    expect(stored.result).toEqual({ stored: 'on' })
    const warm = await lambda.invoke({ action: 'get', key: 'flags' })
    expect(warm.result).toMatchObject({ value: 'on' })
    expect(lambda.environments()[0]?.state).toBe('frozen')
    await lambda.wait(TTL_MS * 2)
    const thawed = await lambda.invoke({ action: 'get', key: 'flags' })
    expect(thawed.pid).toBe(stored.pid)
    expect(thawed.coldStart).toBe(false)
    expect(thawed.result).toMatchObject({ value: null, stats: { hits: 2, misses: 1, entries: 0 } })
  })
})
