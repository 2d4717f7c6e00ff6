import { onEvent, registerRoot, type WarmstartEvent } from '@warmstart/core'
import { type LeakFinding, leakGuard } from '@warmstart/leak-guard'
import { afterEach, describe, expect, it } from 'vitest'
import { apiRequest, body, UNTIMED } from './corpus/events.js'

// What the fast check reads again of a large container (more than 256 entries) once it has read it.

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

function catalog(size: number): Map<string, { name: string }> {
  return new Map(Array.from({ length: size }, (_, i) => [`product-${i}`, { name: `Widget ${i}` }]))
}

describe('reading a large container again', () => {
  it('reads only new entries and values replaced under an existing key when its size changes', async () => {
    const products = catalog(300)
    cleanups.push(registerRoot('t:catalog', products))
    const { findings, nodes, invoke } = checking()
    await invoke(() => {}) // the first reading: every entry
    const request = await invoke(({ event }) => {
      products.set('product-5', { name: `Widget of ${body(event).userId}` })
      products.set('product-new', { name: body(event).email })
    })
    expect(findings.map((f) => [f.path, f.kind, f.invocation])).toEqual([
      ['t:catalog.get("prod…").name', 'user id', request.context.awsRequestId],
      ['t:catalog.get("prod…").name', 'email', request.context.awsRequestId],
    ])
    // The 299 values read clean before are not read again: the Map and the two new values are.
    expect(nodes[1]).toBeLessThan((nodes[0] as number) - 250)

    // Written inside a value already read clean, while the Map grows: the deep check's to find.
    const later = await invoke(({ event }) => {
      ;(products.get('product-7') as { name: string }).name = body(event).userId
      products.set('product-newer', { name: 'Widget' })
    })
    expect(findings.filter((f) => f.invocation === later.context.awsRequestId)).toEqual([])
  })

  it("reads a registered root's listing the same way once it lists more than 256 entries", async () => {
    const hidden = catalog(300)
    cleanups.push(registerRoot('t:listed', { kind: 'cache' }, () => hidden.entries()))
    const { findings, nodes, invoke } = checking()
    // The first listing says it is large, the second reads it as such, the third skips what that one read clean.
    for (let reading = 0; reading < 3; reading++) await invoke(() => {})
    expect(nodes[1]).toBe(nodes[0])
    expect(nodes[2]).toBeLessThan((nodes[1] as number) - 250)
    const request = await invoke(({ event }) => {
      hidden.set('product-9', { name: body(event).userId })
    })
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['t:listed.get("prod…").name', request.context.awsRequestId],
    ])
  })

  it('does not take a reading cut short by the budget as complete: the next check reads on', async () => {
    const products = catalog(300)
    cleanups.push(registerRoot('t:budgeted', products))
    const { findings, invoke } = checking({ budget: { nodes: 200 } })
    const events: WarmstartEvent[] = []
    cleanups.push(onEvent((event) => events.push(event)))
    await invoke(() => {})
    expect(events).toContainEqual(expect.objectContaining({ type: 'leak.check', exhausted: true }))
    // Same size, a value replaced past where the first reading stopped: read because that reading was not complete.
    const request = await invoke(({ event }) => {
      products.set('product-299', { name: body(event).userId })
    })
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['t:budgeted.get("prod…").name', request.context.awsRequestId],
    ])
  })
})

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

  it('is read every time while its owner cannot tell, and after a reading that was cut short or saw a request in flight', async () => {
    let busy = true
    const { findings, invoke } = checking({ budget: { nodes: 3 } })
    const { cache, state } = countedCache((writes) => (busy ? undefined : writes))
    for (let i = 0; i < 5; i++) cache.set(`product-${i}`, { name: `Widget ${i}` })
    await invoke(() => {})
    await invoke(() => {})
    expect(state.listings).toBe(2)
    busy = false
    // Five objects and a budget of three nodes: never read completely, so never skipped.
    await invoke(() => {})
    await invoke(() => {})
    expect(state.listings).toBe(4)
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
