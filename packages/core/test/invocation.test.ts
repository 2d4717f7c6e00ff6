import { inspect } from 'node:util'
import { currentRequestId } from '@warmstart/core'
import { invocationCount, trackInvocation } from '@warmstart/core/internal'
import { afterEach, describe, expect, it, vi } from 'vitest'

const runtime = globalThis as { awslambda?: unknown }

describe('trackInvocation', () => {
  afterEach(() => {
    delete runtime.awslambda
  })

  it('counts invocations once per context and marks only the first as cold', () => {
    const before = invocationCount()
    const first = { awsRequestId: 'req-1' }
    const a = trackInvocation(first)
    expect(trackInvocation(first)).toBe(a)
    const b = trackInvocation({ awsRequestId: 'req-2' })
    const c = trackInvocation({})
    expect(invocationCount()).toBe(before + 3)
    expect([a.sequence, b.sequence, c.sequence]).toEqual([before + 1, before + 2, before + 3])
    expect(a.coldStart).toBe(before === 0)
    expect(b.coldStart).toBe(false)
    expect(c.requestId).toBe(`local-${before + 3}`)
    expect(currentRequestId()).toBe(c.requestId)
    expect(a.startedAt).toBeLessThanOrEqual(Date.now())
  })

  it('leaves no trace on the context that code can see, and a copy of the context is a new invocation', () => {
    const context = { awsRequestId: 'seen', functionName: 'fn', getRemainingTimeInMillis: () => 1_000 }
    const untracked = { ...context }
    const views = (value: object) => [
      Object.keys(value),
      Reflect.ownKeys(value),
      Object.getOwnPropertySymbols(value),
      JSON.stringify(value),
      inspect(value, { showHidden: true }),
    ]
    const info = trackInvocation(context)
    expect(views(context)).toEqual(views(untracked))
    const copy = { ...context }
    const before = invocationCount()
    expect(trackInvocation(copy)).not.toBe(info)
    expect(invocationCount()).toBe(before + 1)
    expect(trackInvocation(context)).toBe(info)
  })

  it('tracks contexts that cannot be extended, and contexts frozen after they were tracked', () => {
    const before = invocationCount()
    const frozen = Object.freeze({ awsRequestId: 'frozen' })
    const sealed = Object.seal({ awsRequestId: 'sealed' })
    const later = { awsRequestId: 'frozen-later' }
    const infos = [trackInvocation(frozen), trackInvocation(sealed), trackInvocation(later)]
    Object.freeze(later)
    expect([trackInvocation(frozen), trackInvocation(sealed), trackInvocation(later)]).toEqual(infos)
    expect(trackInvocation(frozen)).toBe(infos[0])
    expect(trackInvocation(later)).toBe(infos[2])
    expect(infos.map((info) => info.requestId)).toEqual(['frozen', 'sealed', 'frozen-later'])
    expect(invocationCount()).toBe(before + 3)
    expect(Object.isFrozen(frozen) && Object.isSealed(sealed)).toBe(true)
  })

  it('gives every copy of core loaded in the process the same answer for a context', async () => {
    vi.resetModules()
    const copy = { ...(await import('@warmstart/core')), ...(await import('@warmstart/core/internal')) }
    expect(copy.trackInvocation).not.toBe(trackInvocation)
    const before = invocationCount()
    const context = { awsRequestId: 'shared' }
    const frozen = Object.freeze({ awsRequestId: 'shared-frozen' })
    const info = trackInvocation(context)
    expect(copy.trackInvocation(context)).toBe(info)
    expect(trackInvocation(frozen)).toBe(copy.trackInvocation(frozen))
    expect(copy.invocationCount()).toBe(before + 2)
    expect(copy.currentRequestId()).toBe('shared-frozen')
  })

  it("prefers the runtime's invoke store when it has a context", () => {
    trackInvocation({ awsRequestId: 'classic' })
    let inside = true
    runtime.awslambda = { InvokeStore: { hasContext: () => inside, getRequestId: () => 'from-store' } }
    expect(currentRequestId()).toBe('from-store')
    inside = false
    expect(currentRequestId()).toBe('classic')
  })
})
