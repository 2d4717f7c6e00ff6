import { onEvent, registerRoot, type WarmstartEvent } from '@warmstart/core'
import { type LeakFinding, leakGuard } from '@warmstart/leak-guard'
import { afterEach, describe, expect, it } from 'vitest'
import { apiRequest, body, UNTIMED } from './corpus/events.js'

// When the fast check skips a registered root that keeps a revision. (How it reads large containers: budget.test.ts.)

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

function checking(options: Parameters<typeof leakGuard>[0] = {}) {
  const findings: LeakFinding[] = []
  const nodes: number[] = []
  cleanups.push(
    onEvent((event: WarmstartEvent) => {
      if (event.type === 'leak.check') nodes.push(event.nodes)
    }),
  )
  const guard = leakGuard({
    mode: 'report',
    onFinding: (found) => findings.push(...found),
    ...UNTIMED,
    ...options,
  })
  const invoke = async (handler: (request: ReturnType<typeof apiRequest>) => void) => {
    const request = apiRequest()
    await guard.wrap(() => handler(request))(request.event, request.context)
    return request
  }
  return { findings, nodes, invoke }
}

describe('a registered root with a revision', () => {
  /** A cache that counts its writes, registered as boundedLru and ttlCache register themselves. */
  function countedCache(revision: (writes: number) => number | undefined = (writes) => writes) {
    const state = { entries: new Map<string, unknown>(), writes: 0, listings: 0 }
    const cache = {
      set(key: string, value: unknown) {
        state.writes++
        state.entries.set(key, value)
      },
    }
    cleanups.push(
      registerRoot(
        't:counted',
        cache,
        () => {
          state.listings++
          return state.entries.entries()
        },
        { revision: () => revision(state.writes) },
      ),
    )
    return { cache, state }
  }

  it('is skipped while its revision is the one it was read clean at, and read again after a write', async () => {
    const { findings, invoke } = checking()
    const { cache, state } = countedCache()
    cache.set('product-1', { name: 'Widget' })
    await invoke(() => {})
    expect(state.listings).toBe(1)
    await invoke(() => {})
    await invoke(() => {})
    expect(state.listings).toBe(1)
    const leaking = await invoke((request) => cache.set(body(request.event).userId, { plan: 'pro' }))
    expect(state.listings).toBe(2)
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['t:counted → key "user…"', leaking.context.awsRequestId],
    ])
    // It held a finding: read again next time (then clean for that invocation), and skipped after that.
    await invoke(() => {})
    await invoke(() => {})
    expect(state.listings).toBe(3)
    // The documented blind spot: a write inside an entry's own object is no write to the cache.
    const inside = await invoke((request) => {
      ;(state.entries.get('product-1') as { name: string }).name = body(request.event).email
    })
    expect(findings.map((f) => f.invocation)).not.toContain(inside.context.awsRequestId)
    expect(state.listings).toBe(3)
  })

  it('is read every time while its owner cannot tell', async () => {
    const { findings, invoke } = checking()
    const { cache, state } = countedCache(() => undefined)
    for (let i = 0; i < 5; i++) cache.set(`product-${i}`, { name: `Widget ${i}` })
    await invoke(() => {})
    await invoke(() => {})
    expect(state.listings).toBe(2)
    expect(findings).toEqual([])
  })

  it('is not taken as read clean while it holds a value of a request in flight', async () => {
    process.env.AWS_LAMBDA_MAX_CONCURRENCY = '2'
    cleanups.push(() => {
      delete process.env.AWS_LAMBDA_MAX_CONCURRENCY
    })
    const findings: LeakFinding[] = []
    const guard = leakGuard({ mode: 'report', onFinding: (found) => findings.push(...found), ...UNTIMED })
    const { cache, state } = countedCache()
    const running = apiRequest()
    await guard.begin(running.event, running.context)
    cache.set(body(running.event).userId, { working: true })
    const other = apiRequest()
    await guard.wrap(() => 1)(other.event, other.context)
    await guard.wrap(() => 1)(apiRequest().event, apiRequest().context)
    expect(state.listings).toBe(2)
    expect(await guard.end(running.context)).toEqual([
      expect.objectContaining({ path: 't:counted → key "user…"', invocation: running.context.awsRequestId }),
    ])
    expect(findings).toHaveLength(1)
  })
})
