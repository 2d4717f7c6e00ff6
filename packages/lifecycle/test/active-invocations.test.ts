import type { InvocationInfo } from '@warmstart/core'
import { describe, expect, it } from 'vitest'
import { ActiveInvocations } from '../src/active-invocations.js'

const info = (requestId: string, sequence: number): InvocationInfo => ({
  requestId,
  sequence,
  coldStart: sequence === 1,
  startedAt: 0,
  deadline: undefined,
})

describe('ActiveInvocations', () => {
  it('finds overlapping invocations by request id, whichever ends first', () => {
    const active = new ActiveInvocations()
    const [a, b, c] = [info('a', 1), info('b', 2), info('c', 3)]
    active.delete('nobody')
    expect(active.get('a')).toBeUndefined()
    active.add(a)
    active.add(b)
    expect(active.size).toBe(2)
    expect([active.get('a'), active.get('b'), active.has('c')]).toEqual([a, b, false])
    active.delete('nobody')
    active.delete('a')
    active.add(c)
    expect([active.has('a'), active.get('b'), active.get('c'), active.size]).toEqual([false, b, c, 2])
    // A request id with the same characters but another string object: as the runtime's invoke store returns it.
    expect(active.get(['b'].join(''))).toBe(b)
    active.delete('b')
    expect([active.has('b'), active.get('c'), active.size]).toEqual([false, c, 1])
    active.add(b)
    active.clear()
    expect([active.size, active.has('b'), active.has('c')]).toEqual([0, false, false])
  })
})
