import { currentRequestId, invocationCount, trackInvocation } from '@warmstart/core'
import { afterEach, describe, expect, it } from 'vitest'

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

  it("prefers the runtime's invoke store when it has a context", () => {
    trackInvocation({ awsRequestId: 'classic' })
    let inside = true
    runtime.awslambda = { InvokeStore: { hasContext: () => inside, getRequestId: () => 'from-store' } }
    expect(currentRequestId()).toBe('from-store')
    inside = false
    expect(currentRequestId()).toBe('classic')
  })
})
