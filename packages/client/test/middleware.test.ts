import middy from '@middy/core'
import { type ClientsContext, clientsMiddleware, lazy } from '@warmstart/client'
import { invocationCount } from '@warmstart/core/internal'
import type { Context } from 'aws-lambda'
import { describe, expect, it, vi } from 'vitest'

function lambdaContext(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'orders',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders',
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/orders',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  }
}

describe('clientsMiddleware in a middy chain', () => {
  it('resolves the lazies in parallel before the handler, puts them on the context and marks the cold start', async () => {
    const coldBefore = invocationCount() === 0
    const order: string[] = []
    const config = lazy(() => {
      order.push('config')
      return { table: 'orders' }
    })
    const db = lazy(async () => {
      order.push('db start')
      await new Promise((resolve) => setImmediate(resolve))
      order.push('db ready')
      return { query: (sql: string) => `ran ${sql}` }
    })
    const cache = lazy(async () => {
      order.push('cache')
      return new Map<string, number>()
    })
    const lazies = { config, db, cache }
    const app = async (event: { id: number }, context: Context & ClientsContext<typeof lazies>) => {
      order.push('handler')
      return {
        cold: context.coldStart,
        answer: context.db.query(`select ${event.id} from ${context.config.table}`),
        sameCache: context.cache === cache.peek(),
      }
    }
    const handler = middy(app).use(clientsMiddleware(lazies, { setToContext: true }))

    const first = await handler({ id: 1 }, lambdaContext('req-1') as Context & ClientsContext<typeof lazies>)
    expect(first).toEqual({ cold: coldBefore, answer: 'ran select 1 from orders', sameCache: true })
    expect(order).toEqual(['config', 'db start', 'cache', 'db ready', 'handler'])
    const second = await handler({ id: 2 }, lambdaContext('req-2') as Context & ClientsContext<typeof lazies>)
    expect(second).toEqual({ cold: false, answer: 'ran select 2 from orders', sameCache: true })
    expect(order.filter((step) => step !== 'handler')).toHaveLength(4)
  })

  it('leaves the context alone without setToContext, but still resolves the lazies first', async () => {
    const factory = vi.fn(async () => 'client')
    const ssm = lazy(factory)
    const seen: unknown[] = []
    const handler = middy(async (_event: unknown, context: Context) => {
      seen.push((context as unknown as Record<string, unknown>).ssm, ssm.peek())
      return 'done'
    }).use(clientsMiddleware({ ssm }))
    await expect(handler({}, lambdaContext('req-3'))).resolves.toBe('done')
    expect(seen).toEqual([undefined, 'client'])
    expect(factory).toHaveBeenCalledTimes(1)
  })

  it("fails the invocation with the factory's own error and never runs the handler; the next one retries", async () => {
    const failure = new Error('secret not found')
    let calls = 0
    const db = lazy(async () => {
      calls++
      if (calls === 1) throw failure
      return 'connection'
    })
    const app = vi.fn(async () => 'ok')
    const handler = middy(app).use(clientsMiddleware({ db }))
    await expect(handler({}, lambdaContext('req-4'))).rejects.toBe(failure)
    expect(app).not.toHaveBeenCalled()
    await expect(handler({}, lambdaContext('req-5'))).resolves.toBe('ok')
  })

  it('serves warm instances without a promise, awaits a lazy that validates, and sees a new instance after reset', async () => {
    let made = 0
    const db = lazy(async () => ({ id: ++made }))
    const config = lazy(() => ({ table: 'orders' }))
    const checked = lazy(async () => 'checked', { validate: async () => true })
    const middleware = clientsMiddleware({ db, config }, { setToContext: true })
    const request = (id: string) => ({ context: lambdaContext(id) as unknown as Record<string, unknown> })
    await middleware.before?.(request('l-1') as never)
    const warm = request('l-2')
    expect(middleware.before?.(warm as never)).toBeUndefined()
    expect(warm.context).toMatchObject({ db: { id: 1 }, config: { table: 'orders' }, coldStart: false })

    await db.reset()
    const renewed = request('l-3')
    expect(middleware.before?.(renewed as never)).toBeInstanceOf(Promise)
    await middleware.before?.(renewed as never)
    expect(renewed.context.db).toEqual({ id: 2 })

    const validating = clientsMiddleware({ checked })
    await validating.before?.(request('l-4') as never)
    expect(validating.before?.(request('l-5') as never)).toBeInstanceOf(Promise)
  })

  it('rejects what is not a record of lazies, and a bad setToContext', () => {
    const expectInvalid = (make: () => unknown, option: string) =>
      expect(make).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_OPTION',
          message: expect.stringContaining(`"${option}"`),
        }),
      )
    expectInvalid(() => clientsMiddleware(null as unknown as Record<string, never>), 'lazies')
    expectInvalid(() => clientsMiddleware({ db: {} } as unknown as Record<string, never>), 'lazies.db')
    expectInvalid(() => clientsMiddleware({}, { setToContext: 'yes' as unknown as boolean }), 'setToContext')
    // Put on the context, a lazy named as one of its own members would replace that member.
    const named = lazy(() => ({ id: 1 }))
    expectInvalid(
      () => clientsMiddleware({ awsRequestId: named }, { setToContext: true }),
      'lazies.awsRequestId',
    )
    expect(() => clientsMiddleware({ awsRequestId: named })).not.toThrow()
  })
})
