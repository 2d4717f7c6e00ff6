import { type LeakFinding, leakGuard } from '@warmstart/leak-guard'
import { deepCheck } from '@warmstart/leak-guard/deep'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { FastWalker, REREAD_LIMIT } from '../src/fast-walk.js'
import { Matcher } from '../src/matcher.js'
import { apiRequest, body } from './corpus/events.js'

// The walker captures Object.keys when it loads: wrapped before any import runs, every listing it
// makes is counted by the object listed (V8 lists every key or none, so a listing is the cost).
const listings = vi.hoisted(() => {
  const keys = Object.keys
  const counts = new WeakMap<object, number>()
  Object.keys = ((value: object) => {
    if (typeof value === 'object' && value !== null) counts.set(value, (counts.get(value) ?? 0) + 1)
    return keys(value)
  }) as typeof Object.keys
  return { counts, restore: () => (Object.keys = keys) }
})

const g = globalThis as unknown as Record<string, unknown>
afterEach(() => {
  for (const key of Object.keys(g)) if (key.startsWith('k_')) delete g[key]
})
afterAll(() => listings.restore())

function checking(options: Parameters<typeof leakGuard>[0] = {}) {
  const findings: LeakFinding[] = []
  const guard = leakGuard({ mode: 'report', onFinding: (found) => findings.push(...found), ...options })
  return { guard, findings }
}

/** A dictionary of `count` keys: far more than a 20 ms check can list (about 35 ms for 200,000 here). */
function dictionary(count: number): Record<string, unknown> {
  const dict: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) dict[`sku-${i}`] = i
  return dict
}

describe('an object whose keys cost more than the budget to list', () => {
  it('a module-level dictionary of 200,000 keys: listed by the first checks only, then probed by key; a small sibling read at every check', async () => {
    const catalogue = dictionary(200_000)
    const recent: unknown[] = []
    g.k_state = { catalogue, recent }
    const { guard, findings } = checking({ budget: { time: '20ms' }, watch: false })
    const leaks: [path: string, invocation: string][] = []
    for (let i = 0; i < 8; i++) {
      const { event, context } = apiRequest()
      const { userId, orderId } = body(event)
      await guard.wrap(() => {
        if (i === 6) catalogue[userId] = true
        if (i === 7) recent.push({ order: orderId })
      })(event, context)
      leaks.push(...findings.splice(0).map((f): [string, string] => [f.path, f.invocation]))
    }
    // Each listing of it takes past a quarter of the check's time: the first (not timed: timing every
    // object's listing would double the cost of small ones) and two timed, then no more.
    expect(listings.counts.get(catalogue)).toBeLessThanOrEqual(3)
    // What the handler keyed by a request value is still found by its own check, and the small
    // sibling's leak too.
    expect(leaks).toEqual([
      ['globalThis.k_state.catalogue → key "user…"', expect.any(String)],
      ['globalThis.k_state.recent[0].order', expect.any(String)],
    ])
  })

  it('a sparse array of 200,000 entries: listed by the first checks only, then probed by index', async () => {
    const seen: unknown[] = []
    for (let i = 0; i < 200_000; i++) seen[i * 1_000] = true
    g.k_seen = seen
    const { guard, findings } = checking({ budget: { time: '20ms' }, watch: false })
    for (let i = 0; i < 6; i++) {
      const { event, context } = apiRequest()
      if (i === 5) event.body = JSON.stringify({ ...body(event), userId: 987_654_321 })
      await guard.wrap(() => {
        if (i === 5) seen[987_654_321] = true
      })(event, context)
    }
    expect(listings.counts.get(seen)).toBeLessThanOrEqual(3)
    expect(findings.map((f) => f.path)).toEqual(['globalThis.k_seen → key "9876…"'])
  })

  it('request data planted in the values of one the fast check no longer lists is found by the deep check', async () => {
    // A time budget of 1 ms: 20,000 keys (about 2 ms to list) cost more than its quarter, and the
    // heap snapshot stays small.
    const registry = dictionary(20_000)
    g.k_registry = registry
    const { guard, findings } = checking({ budget: { time: '1ms' }, watch: false })
    for (let i = 0; i < 4; i++) await guard.wrap(() => 1)(apiRequest().event, apiRequest().context)
    const listedBefore = listings.counts.get(registry) ?? 0
    const { event, context } = apiRequest()
    await guard.wrap(() => {
      registry['sku-17'] = { owner: body(event).email }
    })(event, context)
    expect(listings.counts.get(registry)).toBe(listedBefore)
    expect(findings).toEqual([])
    await guard.deepCheck(deepCheck)
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      [expect.stringContaining('k_registry'), context.awsRequestId],
    ])
  })
})

describe('a sparse array with more entries than a walk reads', () => {
  it('is read on where the last walk stopped: an entry past the first walk is reached', () => {
    const leaked = 'user-7f3a91c2'
    const matcher = new Matcher(
      [{ requestId: 'r1', values: [{ value: leaked, kind: 'user id', exactOnly: false }], objects: [] }],
      [],
    )
    const sparse: unknown[] = []
    for (let i = 0; i < REREAD_LIMIT * 3; i++) sparse[i * 100] = `entry-${i}`
    sparse[REREAD_LIMIT * 300 - 50] = { who: leaked }
    const walker = new FastWalker(6, () => false)
    const roots = [{ label: 'sparse', value: sparse }]
    let walks = 0
    for (; walks < 50; walks++)
      if (walker.walk(roots, matcher, () => false, 5_000, 60_000).findings.length > 0) break
    expect(walks).toBeLessThan(50)
  })
})
