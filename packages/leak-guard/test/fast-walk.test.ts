import { describe, expect, it } from 'vitest'
import { FastWalker, REREAD_LIMIT, type SlotReader, type WalkRoot } from '../src/fast-walk.js'
import { Matcher } from '../src/matcher.js'

// The walker cut short by its node budget at every point it can be (a time budget no test reaches, so
// each cut falls where the count puts it): whatever the budget, walks that go on where the last one
// stopped reach the leak, and a walk with budget to spare reports nothing cut short.

const LEAKED = 'user-7f3a91c2'
const matcher = () =>
  new Matcher(
    [{ requestId: 'r1', values: [{ value: LEAKED, kind: 'user id', exactOnly: false }], objects: [] }],
    [],
  )
const NEVER = 60_000

/** Walks with `budget` nodes each until one finds the leak; the number of walks it took, or Infinity. */
function walksToFind(walker: FastWalker, roots: readonly WalkRoot[], budget: number, limit: number): number {
  const looking = matcher()
  for (let walk = 1; walk <= limit; walk++) {
    const result = walker.walk(roots, looking, () => false, budget, NEVER)
    if (result.findings.length > 0) return walk
    expect(result.exhausted).toBe(true)
    expect(result.nodes).toBeLessThanOrEqual(budget)
  }
  return Number.POSITIVE_INFINITY
}

const filler = (count: number, prefix: string) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`)

describe("what a container holds past one walk's budget does not starve what comes after it", () => {
  const sessions = () =>
    new Map(
      filler(3000, 'session').map((id) => [
        id,
        Object.fromEntries(filler(20, 'field').map((k) => [k, 'value'])),
      ]),
    )

  it('a large Map whose window is more than a walk can read, then a sibling and a later root', () => {
    const walker = new FastWalker(6, () => false)
    const state: Record<string, unknown> = { sessions: sessions(), other: {} }
    const later: Record<string, unknown> = {}
    const roots = [
      { label: 'state', value: state },
      { label: 'later', value: later },
    ]
    for (let walk = 0; walk < 10; walk++) walker.walk(roots, matcher(), () => false, 50_000, NEVER)
    ;(state.other as Record<string, unknown>).user = LEAKED
    expect(walksToFind(walker, roots, 50_000, 20)).toBeLessThan(20)
    later.user = LEAKED
    delete (state.other as Record<string, unknown>).user
    expect(walksToFind(walker, roots, 50_000, 20)).toBeLessThan(20)
  })

  it('a leak left in a root read earlier in the round is found by the next walk, while a later root cuts every walk short', () => {
    // What CI met: globals the handler set come first, the globals there before the guard last; a walk
    // cut short in the last must not put off the first, or this invocation's leak is found by another.
    for (const budget of [300, 5000, 50_000]) {
      const walker = new FastWalker(6, () => false)
      const recent: unknown[] = filler(5, 'event')
      const roots = [
        { label: 'recentEvents', global: true, value: recent },
        { label: 'earlier', global: true, value: sessions() },
      ]
      // Some walks, the last one cut short in `earlier` (a pass over it can end within a walk).
      for (let walk = 1; ; walk++) {
        const cut = walker.walk(roots, matcher(), () => false, budget, NEVER).exhausted
        if (walk >= 5 && cut) break
        expect(walk).toBeLessThan(20)
      }
      recent.push({ user: LEAKED })
      expect(walksToFind(walker, roots, budget, 1), `budget ${budget}`).toBe(1)
      recent.pop()
    }
  })

  it('roots read again in a round have half the budget between them: what they cannot read waits, what was not read yet goes on', () => {
    const walker = new FastWalker(6, () => false)
    const costly = filler(600, 'row')
    const small: Record<string, unknown> = { x: 'a' }
    const huge = Array.from({ length: 5000 }, (_, i) => ({ sku: `sku-${i}` }))
    const roots: WalkRoot[] = [
      { label: 'costly', value: costly },
      { label: 'small', value: small },
      { label: 'huge', value: huge },
    ]
    // The first walk reads `costly` and `small` to their end and stops in `huge`; the next reads
    // `costly` again up to the share, puts `small` off, and goes on in `huge` with the rest.
    expect(walker.walk(roots, matcher(), () => false, 1000, NEVER)).toMatchObject({ exhausted: true })
    expect(walker.walk(roots, matcher(), () => false, 1000, NEVER)).toMatchObject({
      exhausted: true,
      nodes: 1000,
    })
    small.user = LEAKED
    expect(walksToFind(walker, roots, 1000, 3)).toBeLessThanOrEqual(3)
    delete small.user
    huge.push({ sku: LEAKED })
    expect(walksToFind(walker, roots, 1000, 100)).toBeLessThan(100)
    huge.pop()
    // A root not read yet (a global assigned anew) that takes most of the budget leaves a root read
    // again only what is left of the whole.
    const other = new FastWalker(6, () => false)
    const reassigned: WalkRoot[] = [
      { label: 'a', value: filler(300, 'a') },
      { label: 'b', value: filler(600, 'b') },
      { label: 'huge', value: huge },
    ]
    expect(other.walk(reassigned, matcher(), () => false, 1000, NEVER)).toMatchObject({ exhausted: true })
    reassigned[0] = { label: 'a', value: filler(900, 'a2') }
    expect(other.walk(reassigned, matcher(), () => false, 1000, NEVER)).toMatchObject({
      exhausted: true,
      nodes: 1000,
    })
  })

  it('an array and an object whose entries together are more than a walk can read', () => {
    for (const big of [
      () => filler(2000, 'row').map(() => Object.fromEntries(filler(30, 'col').map((k) => [k, 'cell']))),
      () =>
        Object.fromEntries(
          filler(2000, 'row').map((k) => [k, Object.fromEntries(filler(30, 'col').map((c) => [c, 1]))]),
        ),
    ]) {
      const walker = new FastWalker(6, () => false)
      const state: Record<string, unknown> = { rows: big(), tail: [] }
      const roots = [{ label: 'state', value: state }]
      for (let walk = 0; walk < 10; walk++) walker.walk(roots, matcher(), () => false, 50_000, NEVER)
      ;(state.tail as unknown[]).push(LEAKED)
      expect(walksToFind(walker, roots, 50_000, 20)).toBeLessThan(20)
    }
  })
})

describe('a walk cut short goes on where it stopped, at any budget', () => {
  const shapes: [name: string, build: () => unknown][] = [
    [
      'a Map value',
      () => ({ cache: new Map([...filler(20, 'k').map((k) => [k, 'v'] as const), ['k', LEAKED]]) }),
    ],
    ['a Map value deep in an entry', () => ({ cache: new Map([['a', { deep: [1, 2, { user: LEAKED }] }]]) })],
    ['a Set element', () => ({ seen: new Set([...filler(20, 's'), LEAKED]) })],
    ['an array element', () => ({ recent: [...filler(20, 'a'), LEAKED] })],
    [
      'a sparse array',
      () => ({ sparse: Object.assign(new Array(5000), { 4000: 'x', 4001: { who: LEAKED } }) }),
    ],
    [
      'a property of a nested object',
      () => ({ a: { b: { c: { ...Object.fromEntries(filler(10, 'p').map((k) => [k, 1])), d: LEAKED } } } }),
    ],
    [
      'a key of a Map',
      () => ({ byUser: new Map([...filler(10, 'k').map((k) => [k, 1] as const), [LEAKED, 1]]) }),
    ],
  ]

  for (const [name, build] of shapes) {
    it(`${name}: found at every budget from 12 to 64 nodes`, () => {
      for (let budget = 12; budget <= 64; budget++) {
        const walker = new FastWalker(6, () => false)
        const roots = [{ label: 'state', value: build() }]
        // A hole costs a node until there are enough to read the array by its keys: the sparse one
        // takes about 4000 / budget walks to reach its entries.
        expect(walksToFind(walker, roots, budget, 1000), `budget ${budget}`).toBeLessThan(1000)
      }
      const spare = new FastWalker(6, () => false).walk(
        [{ label: 'state', value: build() }],
        matcher(),
        () => false,
        1e6,
        NEVER,
      )
      expect(spare.exhausted).toBe(false)
      expect(spare.findings).toHaveLength(1)
    })
  }

  it('large containers: a value added after the first reading is found, at small budgets too', () => {
    for (const budget of [12, 13, 40, 100, 1000]) {
      const walker = new FastWalker(6, () => false)
      const map = new Map<string, unknown>(filler(REREAD_LIMIT + 10, 'm').map((k) => [k, 1]))
      const set = new Set<unknown>(filler(REREAD_LIMIT + 10, 's'))
      const list = filler(REREAD_LIMIT + 10, 'l')
      const dict: Record<string, unknown> = Object.fromEntries(
        filler(REREAD_LIMIT + 10, 'd').map((k) => [k, 1]),
      )
      const roots = [{ label: 'state', value: { map, set, list, dict } }]
      // Read everything once, however many walks that takes at this budget.
      for (let walk = 0; walk < 100_000; walk++)
        if (!walker.walk(roots, matcher(), () => false, budget, NEVER).exhausted) break
      for (const add of [
        () => map.set('new', { who: LEAKED }),
        () => set.add({ who: LEAKED }),
        () => list.push({ who: LEAKED } as unknown as string),
        () => {
          dict.added = { who: LEAKED }
        },
      ]) {
        add()
        expect(walksToFind(walker, roots, budget, 100_000), `budget ${budget}`).toBeLessThan(100_000)
        map.delete('new')
        set.clear()
        list.length = REREAD_LIMIT + 10
        delete dict.added
        for (let walk = 0; walk < 100_000; walk++)
          if (!walker.walk(roots, matcher(), () => false, budget, NEVER).exhausted) break
      }
    }
  })

  it("a registered root's listing: an entry cut short is read first by the next walk", () => {
    const listed = filler(30, 'e').map((k) => [k, 'v'] as const)
    for (let budget = 12; budget <= 48; budget++) {
      const listing = new FastWalker(6, () => false)
      const registry = { name: 'registry' }
      const roots = [
        { label: 'lru:users', value: registry, entries: () => [...listed, ['last', LEAKED] as const] },
      ]
      expect(walksToFind(listing, roots, budget, 200), `budget ${budget}`).toBeLessThan(200)
    }
  })

  it('a WeakMap entry read through the slot reader, when the walk meets its key and its map in one walk', () => {
    const key = { id: 'holder' }
    const weak = new WeakMap<object, unknown>([[key, { who: LEAKED }]])
    const slots: SlotReader = {
      promiseResult: () => undefined,
      weakMapEntries: (map) =>
        map === weak
          ? [
              [key, { who: LEAKED }],
              ['not an object', 1],
              [{}, 2],
            ]
          : [],
    }
    // The WeakMap comes before its key: its entry is read once the walk has met the key.
    const roots = () => [{ label: 'state', value: [{ weak }, ...filler(5, 'f'), { key }] }]
    const whole = new FastWalker(6, () => false, slots).walk(roots(), matcher(), () => false, 1e6, NEVER)
    expect(whole.findings.map((finding) => finding.path)).toEqual(['state[0].weak → its WeakMap value.who'])
    // A limit, known: the walker keeps no WeakMap value between walks (it would outlive its key), so
    // at a budget too small to meet the map and its key in one walk the entry is not read.
    for (let budget = whole.nodes; budget <= whole.nodes + 8; budget++) {
      const walker = new FastWalker(6, () => false, slots)
      expect(walksToFind(walker, roots(), budget, 2), `budget ${budget}`).toBe(1)
    }
  })
})
