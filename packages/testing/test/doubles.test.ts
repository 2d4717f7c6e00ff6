import { emit } from '@warmstart/core'
import {
  deferred,
  flushMicrotasks,
  lambdaContext,
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
})
