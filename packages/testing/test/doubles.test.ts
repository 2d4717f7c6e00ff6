import { currentRequestId } from '@warmstart/core'
import { emit } from '@warmstart/core/internal'
import {
  deferred,
  flushMicrotasks,
  lambdaContext,
  overlappingInvocations,
  recordEvents,
  recordingLogger,
} from '@warmstart/testing/doubles'
import { describe, expect, it } from 'vitest'
import { fakeClock } from '../src/fake-clock.js'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    'doubles.one': { n: number }
    'doubles.two': { n: number }
  }
}

describe('test doubles', () => {
  it('lambdaContext counts its deadline down by the clock it is given, with a new request id each time', () => {
    const clock = fakeClock()
    const context = lambdaContext({ remainingMs: 3_000, clock, functionName: 'orders', memoryLimitInMB: 512 })
    clock.advance(1_000)
    expect(context.getRemainingTimeInMillis()).toBe(2_000)
    clock.advance(5_000)
    expect(context.getRemainingTimeInMillis()).toBe(0)
    expect(context).toMatchObject({ functionName: 'orders', memoryLimitInMB: '512' })
    expect(lambdaContext().awsRequestId).not.toBe(lambdaContext().awsRequestId)
    expect(lambdaContext({ requestId: 'r-1' }).awsRequestId).toBe('r-1')
    expect(() => context.done()).toThrow(/callback API/)
  })

  it('deferred settles from outside', async () => {
    const ok = deferred<number>()
    ok.resolve(3)
    expect(await ok.promise).toBe(3)
    const failed = deferred()
    failed.reject(new Error('no'))
    await expect(failed.promise).rejects.toThrow('no')
  })

  it('recordEvents keeps what its filter keeps and resolves next() on the next event of a type', async () => {
    const all = recordEvents()
    const ones = recordEvents('doubles.one')
    const twos = recordEvents((event) => event.type === 'doubles.two')
    const next = all.next('doubles.two')
    emit('doubles.one', { n: 1 })
    emit('doubles.two', { n: 2 })
    expect((await next).n).toBe(2)
    expect(all.types().filter((type) => type.startsWith('doubles.'))).toEqual(['doubles.one', 'doubles.two'])
    expect(ones.of('doubles.one').map((event) => event.n)).toEqual([1])
    expect(twos.types()).toEqual(['doubles.two'])
    all.clear()
    for (const recorder of [all, ones, twos]) recorder.stop()
    emit('doubles.one', { n: 3 })
    expect([all.events.length, ones.events.length]).toEqual([0, 1])
  })

  it('recordingLogger keeps every line and renders them as text', () => {
    const logger = recordingLogger()
    logger.info('started')
    logger.warn('stale', { key: '/app/flags' })
    expect(logger.lines).toEqual([
      { level: 'info', message: 'started' },
      { level: 'warn', message: 'stale', details: { key: '/app/flags' } },
    ])
    logger.debug('d')
    logger.error('e')
    expect(logger.text()).toBe('info started\nwarn stale {"key":"/app/flags"}\ndebug d\nerror e')
  })

  it('flushMicrotasks lets queued promise callbacks run', async () => {
    let done = false
    void Promise.resolve()
      .then(() => undefined)
      .then(() => {
        done = true
      })
    await flushMicrotasks()
    expect(done).toBe(true)
  })

  it("overlappingInvocations keeps each invocation's request id across awaits while others run, as the runtime's store does", async () => {
    const before = currentRequestId()
    const store = overlappingInvocations()
    try {
      expect(() => overlappingInvocations()).toThrow(/already installed/)
      const gates = { a: deferred(), b: deferred() }
      const seen: string[] = []
      const one = (id: 'a' | 'b') =>
        store.run(id, async () => {
          seen.push(`${id}:${currentRequestId()}`)
          await gates[id].promise
          await new Promise((resolve) => setTimeout(resolve, 0))
          seen.push(`${id}:${currentRequestId()}`)
          return id
        })
      const a = one('a')
      const b = one('b')
      gates.b.resolve()
      expect(await b).toBe('b')
      gates.a.resolve()
      expect(await a).toBe('a')
      expect(seen).toEqual(['a:a', 'b:b', 'b:b', 'a:a'])
      // Outside every run, the runtime's store has no context: warmstart falls back to its own.
      expect(currentRequestId()).toBe(before)
    } finally {
      store.close()
    }
    expect((globalThis as { awslambda?: unknown }).awslambda).toBeUndefined()
    expect(() => store.run('late', () => 0)).toThrow(/after close/)
    overlappingInvocations().close()
  })
})
