import { type LeakFinding, leakGuard } from '@warmstart/leak-guard'
import { deepCheck } from '@warmstart/leak-guard/deep'
import { describe, expect, it } from 'vitest'
import { alignedNames } from '../src/deep-search.js'
import { missingFields, takeHeapGraph, V8_NAMES } from '../src/heap-graph.js'
import { apiRequest, body } from './corpus/events.js'

// This file's module scope. Vitest compiles a test file into a function with non-simple
// parameters, so these variables live in a block context, whose slots a heap snapshot does not
// name: the deep check names them from the scope's list of names. `visits` holds a small integer,
// which a snapshot leaves out of the slots: the slot after it must still name the right variable.
let visits = 0
function countVisit(): number {
  visits += 1
  return visits
}
let lastOrders: string[] = []
const byEvent = new WeakMap<object, { userId: string }>()
const keptKeys: object[] = []
const byKeptKey = new WeakMap<object, { userId: string }>()

function reporting(remember = 1) {
  const findings: LeakFinding[] = []
  return { findings, guard: leakGuard({ mode: 'report', remember, onFinding: (f) => findings.push(...f) }) }
}

describe('the deep check', () => {
  it('names the variable that holds the data, not the one before it, after a variable holding a small integer', async () => {
    const { guard, findings } = reporting()
    const { event, context } = apiRequest()
    await guard.wrap(() => {
      countVisit()
      lastOrders = [body(event).orderId]
    })(event, context)
    await guard.deepCheck(deepCheck)
    expect(findings.map((f) => f.path)).toEqual([
      expect.stringMatching(/^module .*test\/deep\.test\.ts: lastOrders\[0\] → "ord-…"$/),
    ])
    lastOrders = []
    expect(lastOrders).toEqual([])
  })

  it('does not report a WeakMap entry whose key is the event, and reports one whose key is kept', async () => {
    const { guard, findings } = reporting(2)
    const first = apiRequest()
    await guard.wrap(() => {
      byEvent.set(first.event, { userId: body(first.event).userId })
    })(first.event, first.context)
    const second = apiRequest()
    await guard.wrap(() => {
      const key = {}
      keptKeys.push(key)
      byKeptKey.set(key, { userId: body(second.event).userId })
    })(second.event, second.context)
    // The first event is still alive (this test holds it): only the map's weak hold on its entry is not.
    await guard.deepCheck(deepCheck)
    expect(findings.map((f) => [f.invocation, f.path])).toEqual([
      [
        second.context.awsRequestId,
        expect.stringMatching(
          /^module .*deep\.test\.ts: keptKeys\[0\] → its WeakMap value\.userId → "user…"$/,
        ),
      ],
    ])
    keptKeys.length = 0
  })
})

describe('aligning a block context slot with its variable', () => {
  it('names a slot by its index when no local was left out', () => {
    expect(alignedNames(['a', 'b', 'c'], [undefined, undefined, undefined], 1)).toEqual(['b'])
  })

  it('aligns on a closure named after its variable, and says which variables a slot it cannot place may be', () => {
    // `count` (a small integer) has no slot: the closure `helper` shows where the names resume.
    const names = ['imported', 'count', 'helper', 'other', 'cached']
    const slots = [undefined, 'helper', undefined, undefined]
    expect(alignedNames(names, slots, 3)).toEqual(['cached'])
    expect(alignedNames(names, slots, 1)).toEqual(['helper'])
    // Before the closure, either of the first two may be the one without a slot.
    expect(alignedNames(names, slots, 0)).toEqual(['imported', 'count'])
    expect(alignedNames(['a', 'b', 'c'], [undefined, undefined], 1)).toEqual(['b', 'c'])
  })

  it('names nothing when the names cannot fit: no names, a slot not found, or names used twice', () => {
    expect(alignedNames([], [undefined], 0)).toEqual([])
    expect(alignedNames(['a'], [undefined], -1)).toEqual([])
    expect(alignedNames(['f', 'x', 'f'], ['f', undefined], 1)).toEqual(['x', 'f'])
    expect(alignedNames(['a', 'b'], ['zz', undefined], 1)).toEqual(['b'])
  })
})

describe("V8's snapshot names", () => {
  it('finds every name the deep check relies on in a snapshot of this Node', async () => {
    // What the names are about, alive while the snapshot is taken.
    const weak = new WeakMap<object, object>()
    const key = {}
    weak.set(key, { held: 1 })
    const matched = /^(\w+)$/.exec('matched')
    let release: () => void = () => {}
    const suspended = (async () => {
      await new Promise<void>((resolve) => {
        release = resolve
      })
    })()
    const graph = await takeHeapGraph()
    try {
      expect(graph.missingNames(), `V8 ${process.versions.v8}`).toEqual([])
    } finally {
      graph.dispose()
      release()
      await suspended
    }
    expect(weak.has(key) && matched !== null).toBe(true)
    expect(Object.keys(V8_NAMES.edgeNames).length).toBeGreaterThan(0)
  })

  it('says which fields a snapshot lacks, so that a renamed one stops the deep check with a reason', () => {
    const meta = (node_fields: string[], edge_fields: string[]) => ({
      snapshot: { meta: { node_fields, edge_fields } },
    })
    expect(
      missingFields(meta(['type', 'name', 'id', 'edge_count'], ['type', 'name_or_index', 'to_node'])),
    ).toEqual([])
    expect(missingFields(meta(['type', 'name', 'id', 'edges'], ['type', 'name_or_index', 'target']))).toEqual(
      ['edge_count', 'to_node'],
    )
  })
})
