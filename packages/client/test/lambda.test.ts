import { createServer, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { type LocalAws, type Simulation, simulateLambda, startLocalAws } from '@warmstart/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The fixture imports the built packages: `pnpm --filter @warmstart/client build` first.
const handler = `${fileURLToPath(new URL('fixtures/clients-handler.mjs', import.meta.url))}#handler`

let aws: LocalAws
let lambda: Simulation

beforeAll(async () => {
  aws = await startLocalAws({ parameters: { '/app/mode': 'live' } })
  lambda = simulateLambda({ handler, env: { ...aws.env }, maxEnvironments: 2 })
})
afterAll(async () => {
  await lambda?.stop()
  await aws?.stop()
})

describe('lazy, awsClient and clientsMiddleware across warm invocations (simulateLambda)', () => {
  it('creates once per environment, reuses across frozen warm invocations, and again in a new environment', async () => {
    const first = await lambda.invoke({ name: '/app/mode' })
    const second = await lambda.invoke({ name: '/app/mode' })
    const third = await lambda.invoke({ name: '/app/mode' })
    for (const invocation of [first, second, third]) expect(invocation.ok).toBe(true)
    expect(first.result).toEqual({
      value: 'live',
      creations: 1,
      resource: { createdBy: first.pid, serial: 1 },
      coldStart: true,
      sharedClient: true,
    })
    expect([second.pid, third.pid]).toEqual([first.pid, first.pid])
    expect(second.result).toMatchObject({ creations: 1, coldStart: false, sharedClient: true })
    expect(third.result).toMatchObject({ creations: 1, coldStart: false, sharedClient: true })

    const [busy, fresh] = await lambda.burst([{ name: '/app/mode' }, { name: '/app/mode' }])
    const newcomer = [busy, fresh].find((invocation) => invocation?.pid !== first.pid)
    expect(newcomer?.coldStart).toBe(true)
    expect(newcomer?.result).toMatchObject({
      creations: 1,
      resource: { createdBy: newcomer?.pid, serial: 1 },
      coldStart: true,
      sharedClient: true,
    })
    expect(aws.callCount({ service: 'ssm', operation: 'GetParameter' })).toBe(5)
  })

  it('shares one creation between invocations running at once in one process (managed instances)', async () => {
    const managed = simulateLambda({
      handler,
      env: { ...aws.env },
      mode: 'managed-instances',
      maxConcurrency: 4,
    })
    try {
      const burst = await managed.burst(Array.from({ length: 4 }, () => ({ name: '/app/mode' })))
      expect(burst.every((invocation) => invocation.ok)).toBe(true)
      expect(new Set(burst.map((invocation) => invocation.pid)).size).toBe(1)
      for (const invocation of burst) {
        expect(invocation.result).toMatchObject({
          value: 'live',
          creations: 1,
          resource: { serial: 1 },
          sharedClient: true,
        })
      }
      const colds = burst.map((invocation) => (invocation.result as { coldStart: boolean }).coldStart)
      expect(colds.filter(Boolean)).toHaveLength(1)
    } finally {
      await managed.stop()
    }
  })
})

describe('lazy hooks that never settle (simulateLambda)', () => {
  it('a validation and a dispose stuck on a silent peer cost hookTimeout, never the invocation', async () => {
    const sockets: Socket[] = []
    const blackHole: Server = createServer((socket) => {
      sockets.push(socket)
      socket.resume()
    })
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve))
    const port = (blackHole.address() as { port: number }).port
    const stuck = simulateLambda({
      handler: `${fileURLToPath(new URL('fixtures/hanging-hooks-handler.mjs', import.meta.url))}#handler`,
      env: { BLACK_HOLE_PORT: String(port) },
      timeout: '3s',
    })
    try {
      const invocations = []
      for (let i = 0; i < 3; i++) invocations.push(await stuck.invoke({}))
      for (const invocation of invocations) expect(invocation).toMatchObject({ ok: true, timedOut: false })
      // Each warm invocation found the connection stale (no answer in time) and made a new one.
      expect(invocations.map((invocation) => (invocation.result as { created: number }).created)).toEqual([
        1, 2, 3,
      ])
      expect(new Set(invocations.map((invocation) => invocation.pid)).size).toBe(1)
    } finally {
      await stuck.stop()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => blackHole.close(resolve))
    }
  })
})
