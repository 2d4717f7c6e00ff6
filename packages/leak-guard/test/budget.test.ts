import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { onEvent, type WarmstartEvent } from '@warmstart/core'
import { type LeakFinding, leakGuard } from '@warmstart/leak-guard'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ScopeReader } from '../src/module-scope.js'
import { apiRequest, body, UNTIMED } from './corpus/events.js'

const g = globalThis as unknown as Record<string, unknown>
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
  for (const key of Object.keys(g)) if (key.startsWith('b_')) delete g[key]
})

function checking(options: Parameters<typeof leakGuard>[0] = {}) {
  const findings: LeakFinding[] = []
  const checks: WarmstartEvent[] = []
  cleanups.push(onEvent((event) => event.type === 'leak.check' && checks.push(event)))
  const guard = leakGuard({ mode: 'report', onFinding: (found) => findings.push(...found), ...options })
  return { guard, findings, checks }
}

describe('the budget holds whatever is walked', () => {
  it('a global Map of 500,000 entries gaining one per invocation: every check within its time budget, each new entry found', async () => {
    const big = new Map<string, number>()
    for (let i = 0; i < 500_000; i++) big.set(`sku-${i}`, i)
    g.b_big = big
    const { guard, findings, checks } = checking({ budget: { time: '20ms' } })
    const leaked: string[] = []
    for (let i = 0; i < 12; i++) {
      const { event, context } = apiRequest()
      await guard.wrap(() => big.set(body(event).userId, i))(event, context)
      leaked.push(context.awsRequestId)
    }
    const durations = checks.map((check) => (check as { durationMs: number }).durationMs)
    // Primitive keys and values count: the first reading is cut short, and says so.
    expect((checks[0] as { exhausted: boolean }).exhausted).toBe(true)
    // A generous bound (the machine is shared, and a collection of a 500k-entry Map can land in a
    // check): before, such a check took 0.66–1.1 s. The figure is in docs/benchmarks.md.
    for (const duration of durations) expect(duration).toBeLessThan(1_000)
    // The first invocation's key is found by its own check (the probe by key, whatever the reading's progress).
    expect(findings.map((f) => f.invocation)).toContain(leaked[0])
  })

  it('resumes where a reading cut short stopped: a value at the end of a large Map is reached', async () => {
    const big = new Map<string, unknown>()
    for (let i = 0; i < 20_000; i++) big.set(`sku-${i}`, { name: `Widget ${i}` })
    const first = apiRequest()
    g.b_big = big
    const { guard, findings, checks } = checking({ budget: { nodes: 20_000, time: '1h' } })
    await guard.wrap(() => big.set('sku-last', { owner: body(first.event).userId }))(
      first.event,
      first.context,
    )
    for (let i = 0; i < 12 && findings.length === 0; i++) {
      const { event, context } = apiRequest()
      await guard.wrap(() => 1)(event, context)
    }
    expect(checks.slice(0, 2).map((c) => (c as { exhausted: boolean }).exhausted)).toEqual([true, true])
    // Found by a later check, and attributed to the invocation that left it.
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['globalThis.b_big.get("sku-…").owner', first.context.awsRequestId],
    ])
  })

  it('a leak in a small global is found by its own check while a larger one cuts checks short', async () => {
    const recent: unknown[] = []
    g.b_recent = recent
    const big = new Map<string, unknown>()
    for (let i = 0; i < 20_000; i++) big.set(`sku-${i}`, { name: `Widget ${i}` })
    g.b_big = big
    const { guard, findings, checks } = checking({ budget: { nodes: 2_000, time: '1h' } })
    let afterCut = 0
    for (let i = 0; i < 12; i++) {
      const { event, context } = apiRequest()
      const leaves = i >= 3
      if (leaves && (checks.at(-1) as { exhausted: boolean }).exhausted) afterCut++
      // From the fourth on, every invocation leaves its event behind in `recent`, read to its end before.
      await guard.wrap(() => leaves && recent.push(event))(event, context)
      const own = findings.filter((finding) => finding.invocation === context.awsRequestId)
      expect(
        own.map((finding) => finding.path).includes(`globalThis.b_recent[${recent.length - 1}]`),
        `check ${i}`,
      ).toBe(leaves)
    }
    // Most of those checks came after one that stopped in `big` (a pass over its window takes some).
    expect(afterCut).toBeGreaterThan(3)
  })

  it('never calls a getter, a Map subclass iterator or a Proxy trap', async () => {
    let calls = 0
    class Tracked extends Map<string, unknown> {
      override entries(): MapIterator<[string, unknown]> {
        calls++
        return super.entries()
      }
      override [Symbol.iterator](): MapIterator<[string, unknown]> {
        calls++
        return super[Symbol.iterator]()
      }
      override get size(): number {
        calls++
        return super.size
      }
    }
    const { event, context } = apiRequest()
    const userId = body(event).userId
    const withGetter = Object.defineProperty({ plain: 1 }, 'lazy', {
      enumerable: true,
      get: () => {
        calls++
        return userId
      },
    })
    const list: unknown[] = ['a']
    Object.defineProperty(list, 1, {
      enumerable: true,
      get: () => {
        calls++
        return userId
      },
    })
    const traps = new Proxy(
      {},
      {
        get: () => {
          calls++
          return userId
        },
        ownKeys: () => {
          calls++
          return []
        },
        getPrototypeOf: () => {
          calls++
          return null
        },
      },
    )
    const tracked = new Tracked([['slot', { user: userId }]])
    const { guard, findings } = checking(UNTIMED)
    await guard.wrap(() => {
      g.b_state = { nested: { withGetter }, list, traps, tracked }
    })(event, context)
    expect(calls).toBe(0)
    // What the subclass holds is read all the same, through the intrinsic iterator.
    expect(findings.map((f) => f.path)).toEqual(['globalThis.b_state.tracked.get("sl…").user'])
  })

  it('reads a ring buffer again: a slot written in place, the length unchanged, is found', async () => {
    const recent: string[] = Array.from({ length: 300 }, (_, i) => `visitor-${i}`)
    g.b_recent = recent
    const { guard, findings } = checking(UNTIMED)
    await guard.wrap(() => 1)(apiRequest().event, apiRequest().context)
    const { event, context } = apiRequest()
    await guard.wrap(() => {
      recent[17 % 300] = body(event).userId
    })(event, context)
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['globalThis.b_recent[17]', context.awsRequestId],
    ])
  })
})

describe('large containers: probed by key, new entries first, then a window', () => {
  it('finds a new key of a large dictionary, a new element of a large Set and a pushed entry of a large array', async () => {
    const dict: Record<string, number> = {}
    const set = new Set<string>()
    const list: unknown[] = []
    for (let i = 0; i < 3_000; i++) {
      dict[`k-${i}`] = i
      set.add(`s-${i}`)
      list.push(`v-${i}`)
    }
    g.b_large = { dict, set, list }
    const { guard, findings } = checking(UNTIMED)
    // Two clean readings: the first reads all, the second parks the Set's tail iterator.
    for (let i = 0; i < 2; i++) await guard.wrap(() => 1)(apiRequest().event, apiRequest().context)
    const { event, context } = apiRequest()
    const { userId, email, orderId } = body(event)
    await guard.wrap(() => {
      dict[userId] = 1
      set.add(email)
      list.push({ order: orderId })
    })(event, context)
    expect(findings.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'globalThis.b_large.dict → key "user…"',
        'globalThis.b_large.set → element "pers…"',
        'globalThis.b_large.list[3000].order',
      ]),
    )
  })

  it('goes on with a registered listing cut short, and reads a Map emptied since', async () => {
    const listed = new Map<string, unknown>()
    for (let i = 0; i < 50; i++) listed.set(`p-${i}`, { name: `Widget ${i}` })
    const { registerRoot } = await import('@warmstart/core')
    cleanups.push(registerRoot('b:listed', { kind: 'cache' }, () => listed.entries()))
    const small = new Map([['a', 1]])
    g.b_small = small
    const { guard, findings, checks } = checking({ budget: { nodes: 60, time: '1h' } })
    await guard.wrap(() => 1)(apiRequest().event, apiRequest().context)
    small.clear()
    const { event, context } = apiRequest()
    await guard.wrap(() => listed.set('p-late', { owner: body(event).userId }))(event, context)
    for (let i = 0; i < 6 && findings.length === 0; i++)
      await guard.wrap(() => 1)(apiRequest().event, apiRequest().context)
    expect(checks.some((c) => (c as { exhausted: boolean }).exhausted)).toBe(true)
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['b:listed.get("p-l…").owner', context.awsRequestId],
    ])
  })
})

describe('the memory of strings seen clean is bounded by what it holds', () => {
  it('keeps few of the large strings an environment replaces between invocations: dropped, they are freed', () => {
    // A child process, so that the heap is measured after a real collection (--expose-gc). It imports
    // the built package: `pnpm --filter @warmstart/leak-guard build` first.
    const fixture = fileURLToPath(new URL('fixtures/memo-memory.mjs', import.meta.url))
    const output = execFileSync(process.execPath, ['--expose-gc', fixture], { encoding: 'utf8' })
    const { retainedBytes, seenBytes } = JSON.parse(output) as { retainedBytes: number; seenBytes: number }
    // 40 MB of strings went through the checks; the memory of clean ones may keep a few MB of them.
    expect(retainedBytes).toBeLessThan(seenBytes / 4)
  })
})

describe('internal slots that cost more than the budget to read', () => {
  it('reads a large WeakMap through the inspector twice: both readings took past the budget, so later checks leave it to the deep check', async () => {
    // The inspector lists a WeakMap's entries all at once (about 7 µs each): 50,000 live keys cost
    // far more than a 20 ms check, and read again they would at every check.
    const keys = Array.from({ length: 50_000 }, () => ({}))
    const metadata = new WeakMap<object, { index: number }>()
    for (const [index, key] of keys.entries()) metadata.set(key, { index })
    g.b_metadata = metadata
    const reads = vi.spyOn(ScopeReader.prototype, 'weakMapEntries')
    cleanups.push(() => reads.mockRestore())
    const { guard } = checking({ budget: { time: '20ms' }, watch: false })
    for (let i = 0; i < 4; i++) {
      const { event, context } = apiRequest()
      await guard.wrap(() => undefined)(event, context)
    }
    expect(reads.mock.calls.filter(([map]) => map === metadata)).toHaveLength(2)
    expect(keys).toHaveLength(50_000)
  })
})
