import middy from '@middy/core'
import { onEvent, type WarmstartEvent } from '@warmstart/core'
import { trackInvocation } from '@warmstart/core/internal'
import {
  environmentAge,
  initDuration,
  invocationCount,
  isColdStart,
  lifecycleMiddleware,
  settleBackgroundWork,
  startKind,
  waitUntil,
} from '@warmstart/lifecycle'
import {
  deferred,
  flushMicrotasks,
  lambdaContext,
  overlappingInvocations,
  recordingLogger,
} from '@warmstart/testing/doubles'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { environment } from '../src/environment.js'
import { jsonLinesLogger } from '../src/log.js'
import { freshEnvironment } from './helpers.js'

let events: WarmstartEvent[] = []
let stopEvents: () => void = () => {}

beforeEach(() => {
  freshEnvironment()
  events = []
  stopEvents = onEvent((event) => events.push(event))
})

afterEach(() => {
  stopEvents()
  delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE
})

function eventsOf<T extends WarmstartEvent['type']>(type: T): Extract<WarmstartEvent, { type: T }>[] {
  return events.filter((e): e is Extract<WarmstartEvent, { type: T }> => e.type === type)
}

describe('cold and warm', () => {
  it('is cold during init and the first invocation, warm afterwards', async () => {
    const logger = recordingLogger()
    const seen: { cold: boolean; kind: string; count: number }[] = []
    const handler = middy(async () => {
      seen.push({ cold: isColdStart(), kind: startKind(), count: invocationCount() })
      return 'ok'
    }).use(lifecycleMiddleware({ logger }))

    expect(isColdStart()).toBe(true)
    expect(initDuration()).toBeUndefined()
    await handler({}, lambdaContext({ requestId: 'r1' }) as never)
    await handler({}, lambdaContext({ requestId: 'r2' }) as never)
    await handler({}, lambdaContext({ requestId: 'r3' }) as never)

    expect(seen).toEqual([
      { cold: true, kind: 'cold', count: 1 },
      { cold: false, kind: 'warm', count: 2 },
      { cold: false, kind: 'warm', count: 3 },
    ])
    expect(isColdStart()).toBe(false)
    const init = eventsOf('lifecycle.init')
    expect(init).toHaveLength(1)
    expect(init[0]).toMatchObject({
      requestId: 'r1',
      initType: 'on-demand',
      startKind: 'cold',
      callerPaidInit: true,
    })
    expect(init[0]?.initDurationMs).toBe(initDuration())
    expect(initDuration()).toBeGreaterThan(0)
    const invokes = eventsOf('lifecycle.invoke')
    expect(invokes.map((e) => [e.requestId, e.sequence, e.coldStart, e.startKind, e.outcome])).toEqual([
      ['r1', 1, true, 'cold', 'success'],
      ['r2', 2, false, 'warm', 'success'],
      ['r3', 3, false, 'warm', 'success'],
    ])
    expect(logger.lines.map((r) => r.message)).toEqual([
      'lifecycle.init',
      'lifecycle.invoke',
      'lifecycle.invoke',
      'lifecycle.invoke',
    ])
    expect(logger.lines[1]?.details).toMatchObject({ sequence: 1, coldStart: true, backgroundPending: 0 })
  })

  it.each([
    ['provisioned-concurrency', 'provisioned'],
    ['snap-start', 'snap-start-restore'],
    ['on-demand', 'cold'],
  ])('names the first invocation after a %s init %s', async (initType, kind) => {
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initType
    const kinds: string[] = []
    const handler = middy(async () => {
      kinds.push(startKind())
    }).use(lifecycleMiddleware({ logger: false }))
    await handler({}, lambdaContext({ requestId: 'a' }) as never)
    await handler({}, lambdaContext({ requestId: 'b' }) as never)
    expect(kinds).toEqual([kind, 'warm'])
    expect(eventsOf('lifecycle.init')[0]).toMatchObject({
      initType,
      startKind: kind,
      callerPaidInit: kind === 'cold',
    })
  })

  it('counts from other middlewares when the lifecycle middleware is not in the chain', () => {
    expect(isColdStart()).toBe(true)
    trackInvocation({ awsRequestId: 'x1' })
    expect(isColdStart()).toBe(true)
    trackInvocation({ awsRequestId: 'x2' })
    expect(isColdStart()).toBe(false)
    expect(startKind()).toBe('warm')
    expect(initDuration()).toBeUndefined()
  })

  it('answers per request when invocations overlap (Managed Instances)', async () => {
    const store = overlappingInvocations()
    const middleware = lifecycleMiddleware({ logger: false })
    const first = {
      event: {},
      context: lambdaContext({ requestId: 'm1' }),
      response: undefined,
      error: undefined,
    }
    const second = {
      event: {},
      context: lambdaContext({ requestId: 'm2' }),
      response: undefined,
      error: undefined,
    }
    const m2Began = deferred()
    try {
      // Both have begun before either ends: each handler asks after the other has begun.
      const m1 = store.run('m1', async () => {
        await middleware.before?.(first)
        await m2Began.promise
        const cold = isColdStart()
        await middleware.after?.(first)
        return cold
      })
      const m2 = store.run('m2', async () => {
        await middleware.before?.(second)
        m2Began.resolve()
        const cold = isColdStart()
        await middleware.after?.(second)
        return cold
      })
      expect(await Promise.all([m1, m2])).toEqual([true, false])
    } finally {
      store.close()
    }
    // m2 ends first: m1 waited for it to begin.
    expect(eventsOf('lifecycle.invoke').map((e) => [e.requestId, e.coldStart])).toEqual([
      ['m2', false],
      ['m1', true],
    ])
  })

  it('tells the age of the environment', () => {
    expect(environmentAge()).toBeGreaterThan(0)
    expect(environmentAge()).toBeLessThanOrEqual(process.uptime() * 1000 + 1000)
  })
})

describe('errors and odd chains', () => {
  it('reports a failed invocation and leaves the error to propagate', async () => {
    const handler = middy(async () => {
      throw new Error('boom')
    }).use(lifecycleMiddleware({ logger: false }))
    await expect(handler({}, lambdaContext({ requestId: 'e1' }) as never)).rejects.toThrow('boom')
    expect(eventsOf('lifecycle.invoke')).toEqual([
      expect.objectContaining({ requestId: 'e1', outcome: 'error' }),
    ])
  })

  it('reports once when a later after() fails, and when before() never ran', async () => {
    const handler = middy(async () => 'ok')
      .use(lifecycleMiddleware({ logger: false }))
      .use({
        after: () => {
          throw new Error('later after failed')
        },
      })
    await expect(handler({}, lambdaContext({ requestId: 'o1' }) as never)).rejects.toThrow(
      'later after failed',
    )
    expect(eventsOf('lifecycle.invoke').map((e) => e.outcome)).toEqual(['error'])

    const middleware = lifecycleMiddleware({ logger: false })
    const request = {
      event: {},
      context: lambdaContext({ requestId: 'o2' }),
      response: undefined,
      error: new Error('x'),
    }
    await middleware.onError?.(request)
    await middleware.after?.(request)
    expect(eventsOf('lifecycle.invoke').map((e) => e.requestId)).toEqual(['o1', 'o2'])
  })

  it('reports once when the request object is frozen', async () => {
    const middleware = lifecycleMiddleware({ logger: false })
    const request = Object.freeze({
      event: {},
      context: lambdaContext({ requestId: 'f1' }),
      response: undefined,
      error: undefined,
    })
    await middleware.before?.(request)
    await middleware.after?.(request)
    await middleware.onError?.(request)
    expect(eventsOf('lifecycle.invoke').map((e) => [e.requestId, e.outcome])).toEqual([['f1', 'success']])
  })

  it('ends at once and keeps nothing when there is no background work, nobody listens and logging is off', async () => {
    stopEvents()
    const middleware = lifecycleMiddleware({ logger: false })
    const request = {
      event: {},
      context: lambdaContext({ requestId: 'q1' }),
      response: undefined,
      error: undefined,
    }
    expect(middleware.before?.(request)).toBeUndefined()
    expect(environment.active.get('q1')).toMatchObject({ requestId: 'q1', coldStart: true })
    expect(middleware.after?.(request)).toBeUndefined()
    expect(environment.active.size).toBe(0)
    stopEvents = onEvent((event) => events.push(event))
    const handler = middy(async () => isColdStart()).use(middleware)
    await expect(handler({}, lambdaContext({ requestId: 'q2' }) as never)).resolves.toBe(false)
    expect(eventsOf('lifecycle.invoke').map((e) => [e.requestId, e.sequence])).toEqual([['q2', 2]])
    expect(environment.active.size).toBe(0)
  })

  it('validates its options', () => {
    expect(() => lifecycleMiddleware({ margin: '1 second' as never })).toThrow(
      /^lifecycleMiddleware: option "margin" must be a duration/,
    )
    expect(() => lifecycleMiddleware({ maxWait: -1 })).toThrow(/option "maxWait"/)
    expect(() => lifecycleMiddleware({ logger: {} as never })).toThrow(
      /^lifecycleMiddleware: option "logger" must have warn\(\) and error\(\) methods \(such as console\), or false$/,
    )
  })

  it('survives a logger that throws', async () => {
    const broken = {
      info: () => {
        throw new Error('log sink down')
      },
      warn: () => {},
      error: () => {},
    }
    const handler = middy(async () => 'fine').use(lifecycleMiddleware({ logger: broken }))
    await expect(handler({}, lambdaContext({ requestId: 'l1' }) as never)).resolves.toBe('fine')
  })

  it('writes JSON lines to stdout by default', async () => {
    const written: string[] = []
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk))
      return true
    })
    try {
      const handler = middy(async () => 'ok').use(lifecycleMiddleware())
      await handler({}, lambdaContext({ requestId: 'j1' }) as never)
      waitUntil(Promise.reject(new Error('x')), { name: 'metrics' })
      await handler({}, lambdaContext({ requestId: 'j2' }) as never)
    } finally {
      write.mockRestore()
    }
    const lines = written.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['info', 'lifecycle.init'],
      ['info', 'lifecycle.invoke'],
      ['warn', 'lifecycle.wait-failed'],
      ['info', 'lifecycle.invoke'],
    ])
    expect(lines[1]).toMatchObject({ requestId: 'j1', coldStart: true, startKind: 'cold', sequence: 1 })
    expect(typeof lines[1]?.time).toBe('string')
  })
})

describe('waitUntil', () => {
  it.each([
    ['a string', 'not a promise'],
    ['undefined', undefined],
    ['a function (the call forgotten)', async () => {}],
  ])('rejects %s with a typed error', (_case, value) => {
    expect(() => waitUntil(value as never)).toThrowError(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/^waitUntil: expected a promise/),
      }),
    )
  })

  it('rejects a misspelt option', () => {
    expect(() => waitUntil(Promise.resolve(), { nmae: 'flush' } as never)).toThrowError(/did you mean "name"/)
  })

  it('holds the response until the background work has finished', async () => {
    const work = deferred()
    const order: string[] = []
    const handler = middy(async () => {
      waitUntil(
        work.promise.then(() => {
          order.push('work done')
        }),
        { name: 'analytics' },
      )
      return 'response'
    }).use(lifecycleMiddleware({ logger: false }))
    const result = handler({}, lambdaContext({ requestId: 'w1' }) as never).then((r) => {
      order.push('handler resolved')
      return r
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect(order).toEqual([])
    work.resolve()
    await expect(result).resolves.toBe('response')
    expect(order).toEqual(['work done', 'handler resolved'])
  })

  it('waits for work registered by work, and for work started during init', async () => {
    const order: string[] = []
    waitUntil(
      Promise.resolve().then(() => order.push('init work')),
      { name: 'prefetch' },
    )
    const handler = middy(async () => {
      waitUntil(
        Promise.resolve().then(() => {
          order.push('outer')
          waitUntil(
            new Promise<void>((resolve) => setTimeout(resolve, 5)).then(() => {
              order.push('inner')
            }),
          )
        }),
      )
    }).use(lifecycleMiddleware({ logger: false }))
    await handler({}, lambdaContext({ requestId: 'w2' }) as never)
    expect(order).toEqual(['init work', 'outer', 'inner'])
  })

  it('waits for work that init work registers while the invocation is already waiting', async () => {
    const order: string[] = []
    const gate = deferred()
    waitUntil(
      gate.promise.then(() => {
        waitUntil(
          new Promise<void>((resolve) => setTimeout(resolve, 5)).then(() => {
            order.push('follow-up')
          }),
          { name: 'follow-up' },
        )
      }),
      { name: 'init' },
    )
    const handler = middy(async () => {
      setTimeout(() => gate.resolve(), 1)
      return 'ok'
    }).use(lifecycleMiddleware({ logger: false }))
    await handler({}, lambdaContext({ requestId: 'u1' }) as never)
    expect(order).toEqual(['follow-up'])
    expect(eventsOf('lifecycle.wait-timeout')).toEqual([])
  })

  it('leaves work registered after the invocation ended to the next invocation', async () => {
    const handler = middy(async () => 'ok').use(lifecycleMiddleware({ logger: false }))
    await handler({}, lambdaContext({ requestId: 'g1' }) as never)
    const late = deferred()
    waitUntil(late.promise, { name: 'late' })
    let ended = false
    const next = handler({}, lambdaContext({ requestId: 'g2' }) as never).then(() => {
      ended = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect(ended).toBe(false)
    late.resolve()
    await next
    expect(eventsOf('lifecycle.invoke').map((e) => [e.requestId, e.backgroundPending])).toEqual([
      ['g1', 0],
      ['g2', 0],
    ])
  })

  it('reports work that fails without failing the invocation, and never its message', async () => {
    const logger = recordingLogger()
    const handler = middy(async () => {
      waitUntil(Promise.reject(Object.assign(new Error('user=alice@example.com'), { code: 'EPIPE' })), {
        name: 'audit',
      })
      waitUntil(Promise.reject('no error object'))
      return 'still ok'
    }).use(lifecycleMiddleware({ logger }))
    await expect(handler({}, lambdaContext({ requestId: 'w3' }) as never)).resolves.toBe('still ok')
    expect(eventsOf('lifecycle.wait-failed')).toEqual([
      expect.objectContaining({ requestId: 'w3', name: 'audit', error: { name: 'Error', code: 'EPIPE' } }),
      expect.objectContaining({ requestId: 'w3', error: { name: 'string' } }),
    ])
    expect(eventsOf('lifecycle.invoke')[0]).toMatchObject({ outcome: 'success', backgroundFailed: 2 })
    expect(logger.lines.filter((r) => r.level === 'warn')).toHaveLength(2)
    expect(JSON.stringify(logger.lines)).not.toContain('alice')
  })

  it('reports a failure whose name cannot be read, or is no string, as what it can tell', async () => {
    const throwingName = new Error('card 4111 1111 1111 1111')
    Object.defineProperty(throwingName, 'name', {
      get() {
        throw new Error('name getter down')
      },
    })
    // A Proxy whose traps throw: even `instanceof` asks its prototype.
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('trap down')
        },
      },
    )
    const oddName = Object.assign(new Error('x'), { name: { secret: 'hunter2' } })
    const handler = middy(async () => {
      waitUntil(Promise.reject(throwingName), { name: 'a' })
      waitUntil(Promise.reject(hostile), { name: 'b' })
      waitUntil(Promise.reject(oddName), { name: 'c' })
      return 'still ok'
    }).use(lifecycleMiddleware({ logger: false }))
    await expect(handler({}, lambdaContext({ requestId: 'w4' }) as never)).resolves.toBe('still ok')
    expect(eventsOf('lifecycle.wait-failed').map((e) => [e.name, e.error])).toEqual([
      ['a', { name: 'Error' }],
      ['b', { name: 'object' }],
      ['c', { name: 'Error' }],
    ])
    expect(eventsOf('lifecycle.invoke')[0]).toMatchObject({ outcome: 'success', backgroundFailed: 3 })
  })

  it('stops waiting at the deadline minus the margin and reports what did not finish', async () => {
    vi.useFakeTimers()
    try {
      const logger = recordingLogger()
      const never = new Promise<void>(() => {})
      const handler = middy(async () => {
        waitUntil(never, { name: 'slow-upload' })
        waitUntil(never)
        return 'on time'
      }).use(lifecycleMiddleware({ logger, margin: '1s' }))
      const result = handler({}, lambdaContext({ requestId: 'w4', remainingMs: 3_000 }) as never)
      await vi.advanceTimersByTimeAsync(1_999)
      let done = false
      void result.then(() => {
        done = true
      })
      await vi.advanceTimersByTimeAsync(0)
      expect(done).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      await expect(result).resolves.toBe('on time')
      expect(eventsOf('lifecycle.wait-timeout')).toEqual([
        expect.objectContaining({
          requestId: 'w4',
          pending: 2,
          names: ['slow-upload', 'unnamed'],
          waitedMs: 2_000,
        }),
      ])
      expect(logger.lines.find((r) => r.message === 'lifecycle.wait-timeout')?.level).toBe('warn')
      expect(eventsOf('lifecycle.invoke')[0]).toMatchObject({ backgroundPending: 2, waitMs: 2_000 })
    } finally {
      vi.useRealTimers()
    }
  })

  it('does not wait at all when the deadline is already inside the margin, and honours maxWait', async () => {
    const never = new Promise<void>(() => {})
    const tight = middy(async () => {
      waitUntil(never, { name: 'late' })
    }).use(lifecycleMiddleware({ logger: false, margin: '500ms' }))
    await tight({}, lambdaContext({ requestId: 'w5', remainingMs: 200 }) as never)
    const capped = middy(async () => {
      waitUntil(never, { name: 'capped' })
    }).use(lifecycleMiddleware({ logger: false, maxWait: 1 }))
    await capped({}, { awsRequestId: 'w6' } as never)
    expect(eventsOf('lifecycle.wait-timeout').map((e) => [e.requestId, e.names])).toEqual([
      ['w5', ['late']],
      ['w6', ['capped']],
    ])
  })

  it('under Managed Instances, each invocation waits for its own work only', async () => {
    const store = overlappingInvocations()
    const middleware = lifecycleMiddleware({ logger: false })
    const a = { event: {}, context: lambdaContext({ requestId: 'a' }), response: undefined, error: undefined }
    const b = { event: {}, context: lambdaContext({ requestId: 'b' }), response: undefined, error: undefined }
    const workOfB = deferred()
    const bBegan = deferred()
    try {
      const invocationB = store.run('b', async () => {
        await middleware.before?.(b)
        waitUntil(workOfB.promise, { name: 'b-work' })
        bBegan.resolve()
        await middleware.after?.(b)
      })
      let bEnded = false
      void invocationB.then(() => {
        bEnded = true
      })
      // a ends while b's work is pending: it does not wait for b's work.
      await store.run('a', async () => {
        await middleware.before?.(a)
        await bBegan.promise
        await middleware.after?.(a)
      })
      await flushMicrotasks()
      expect(bEnded).toBe(false)
      workOfB.resolve()
      await invocationB
      expect(bEnded).toBe(true)
    } finally {
      store.close()
    }
    expect(eventsOf('lifecycle.wait-timeout')).toEqual([])
  })

  it('settleBackgroundWork works without Middy', async () => {
    const work = deferred()
    trackInvocation({ awsRequestId: 'plain' })
    waitUntil(work.promise, { name: 'plain-work' })
    setTimeout(() => work.resolve(), 1)
    const report = await settleBackgroundWork({ budgetMs: 10_000 })
    expect(report.pending).toEqual([])
    expect(report.failed).toEqual([])
    waitUntil(new Promise(() => {}), { name: 'stuck' })
    const late = await settleBackgroundWork({ budgetMs: 0 })
    expect(late.pending).toEqual(['stuck'])
    expect(eventsOf('lifecycle.wait-timeout')[0]).toMatchObject({ requestId: 'plain', names: ['stuck'] })
    freshEnvironment()
    expect((await settleBackgroundWork()).pending).toEqual([])
  })
})

describe('settleBackgroundWork without Middy: bounded and checked', () => {
  it("ends within the invocation's remaining time, less the margin, when no budget is given", {
    timeout: 2_000,
  }, async () => {
    // 501 ms left and the middleware's 500 ms margin: about 1 ms to wait for work that never settles.
    trackInvocation(lambdaContext({ requestId: 'plain-deadline', remainingMs: 501 }))
    waitUntil(new Promise(() => {}), { name: 'stuck' })
    const report = await settleBackgroundWork()
    expect(report.pending).toEqual(['stuck'])
    expect(eventsOf('lifecycle.wait-timeout')[0]).toMatchObject({
      requestId: 'plain-deadline',
      names: ['stuck'],
    })
  })

  it.each([
    [
      'a misspelt option',
      { budget: 5 },
      /settleBackgroundWork: option "budget" is not an option \(did you mean "budgetMs"\?\)/,
    ],
    [
      'a budget that is not a duration',
      { budgetMs: 'soon' },
      /settleBackgroundWork: option "budgetMs" must be/,
    ],
    ['a budget below zero', { budgetMs: -1 }, /settleBackgroundWork: option "budgetMs" must be/],
    [
      'a request id that is not a string',
      { requestId: 42 },
      /settleBackgroundWork: option "requestId" must be/,
    ],
    ['a logger without warn()', { logger: {} }, /settleBackgroundWork: option "logger" must have warn\(\)/],
  ])('rejects %s with ERR_INVALID_OPTION instead of ignoring it', async (_case, options, message) => {
    const settling = settleBackgroundWork(options as never)
    await expect(settling).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
    await expect(settling).rejects.toThrow(message)
  })
  it('refuses a waitUntil name that is not a string: reports would carry whatever it is', () => {
    expect(() => waitUntil(Promise.resolve(), { name: { userId: 'u-1' } as never })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringMatching(/^waitUntil: option "name"/),
      }),
    )
  })
})

describe('the default logger and unbounded settling', () => {
  it('writes errors as JSON lines too', () => {
    const written: string[] = []
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk))
      return true
    })
    try {
      jsonLinesLogger.error('lifecycle.test', { n: 1 })
    } finally {
      write.mockRestore()
    }
    expect(JSON.parse(written[0] ?? '')).toMatchObject({ level: 'error', message: 'lifecycle.test', n: 1 })
  })

  it('waits without a bound when no budget is given, for all work started outside invocations', async () => {
    const first = deferred()
    waitUntil(first.promise, { name: 'one' })
    waitUntil(Promise.resolve(), { name: 'two' })
    setTimeout(() => first.resolve(), 1)
    const report = await settleBackgroundWork({ requestId: 'none' })
    expect(report.pending).toEqual([])
  })
})
