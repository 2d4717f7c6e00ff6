import { lazy } from '@warmstart/client'
import type { WarmstartError } from '@warmstart/core'
import { deferred, flushMicrotasks, recordEvents, recordingLogger } from '@warmstart/testing/doubles'
import { afterEach, describe, expect, it, vi } from 'vitest'

let recorder = recordEvents('client.')
afterEach(() => {
  recorder.stop()
  recorder = recordEvents('client.')
})

describe('lazy with a synchronous factory', () => {
  it('creates on the first get(), never before, and returns the same instance after', () => {
    const factory = vi.fn(() => ({ id: 1 }))
    const value = lazy(factory, { name: 'thing' })
    expect(factory).not.toHaveBeenCalled()
    expect(value.peek()).toBeUndefined()
    const first = value.get()
    expect(first).toEqual({ id: 1 })
    expect(value.get()).toBe(first)
    expect(value.get()).toBe(first)
    expect(factory).toHaveBeenCalledTimes(1)
    expect(value.peek()).toBe(first)
    expect(recorder.types()).toEqual(['client.created', 'client.reused', 'client.reused'])
    expect(recorder.events[0]).toMatchObject({ name: 'thing', durationMs: expect.any(Number) })
    expect(recorder.events[1]).toMatchObject({ name: 'thing' })
  })

  it('keeps an instance that is undefined: made once, reused after', () => {
    const factory = vi.fn(() => undefined)
    const value = lazy(factory)
    expect(value.get()).toBeUndefined()
    expect(value.get()).toBeUndefined()
    expect(factory).toHaveBeenCalledTimes(1)
    expect(recorder.types()).toEqual(['client.created', 'client.reused'])
  })

  it('names itself after the factory, or "lazy"', () => {
    function makeDatabase() {
      return 1
    }
    expect(lazy(makeDatabase).name).toBe('makeDatabase')
    expect(lazy(() => 1).name).toBe('lazy')
  })

  it('does not cache a throw: the caller gets the factory error and the next get() tries again', () => {
    const failure = new Error('boom')
    let calls = 0
    const value = lazy(() => {
      calls++
      if (calls === 1) throw failure
      return 'ok'
    })
    expect(() => value.get()).toThrow(failure)
    expect(value.peek()).toBeUndefined()
    expect(value.get()).toBe('ok')
    expect(calls).toBe(2)
    expect(recorder.events[0]).toMatchObject({ type: 'client.create-failed', error: failure })
  })

  it('validates on reuse and replaces a stale instance after disposing it', () => {
    let serial = 0
    let valid = true
    const dispose = vi.fn()
    const validate = vi.fn((instance: { serial: number }) => valid && instance.serial > 0)
    const value = lazy(() => ({ serial: ++serial }), { validate, dispose })
    const first = value.get()
    expect(validate).not.toHaveBeenCalled()
    expect(value.get()).toBe(first)
    expect(validate).toHaveBeenCalledWith(first)
    valid = false
    const second = value.get()
    expect(second).toEqual({ serial: 2 })
    expect(dispose).toHaveBeenCalledWith(first)
    expect(recorder.types()).toEqual([
      'client.created',
      'client.reused',
      'client.validated-stale',
      'client.disposed',
      'client.created',
    ])
    expect(recorder.events[1]).toMatchObject({ validationMs: expect.any(Number) })
    expect(recorder.events[3]).toMatchObject({ reason: 'stale' })
  })

  it('treats a validate that throws as stale, and reports the error', () => {
    const failure = new Error('socket closed')
    let serial = 0
    const value = lazy(() => ++serial, {
      validate: (n) => {
        if (n === 1) throw failure
        return true
      },
    })
    value.get()
    expect(value.get()).toBe(2)
    expect(recorder.events.find((event) => event.type === 'client.validated-stale')).toMatchObject({
      error: failure,
    })
  })

  it('refuses an async validate for a synchronous factory', async () => {
    const value = lazy(() => 1, {
      validate: (() => Promise.reject(new Error('no'))) as unknown as (n: number) => boolean,
    })
    value.get()
    expect(() => value.get()).toThrow(expect.objectContaining({ code: 'ERR_LAZY_ASYNC_VALIDATE' }))
    await flushMicrotasks()
    expect(value.peek()).toBe(1)
  })

  it('reports a failing dispose through the event and the logger, never to the caller', async () => {
    const failure = new Error('already closed')
    const logger = { warn: vi.fn(), error: vi.fn() }
    let serial = 0
    const value = lazy(() => ++serial, {
      validate: () => false,
      dispose: () => {
        throw failure
      },
      logger,
    })
    value.get()
    expect(value.get()).toBe(2)
    await flushMicrotasks()
    expect(recorder.events.find((event) => event.type === 'client.disposed')).toMatchObject({
      reason: 'stale',
      error: failure,
    })
    expect(logger.warn).toHaveBeenCalledWith('lazy "lazy": dispose failed', {
      lazy: 'lazy',
      reason: 'stale',
      error: failure,
    })
  })

  it('reports an async dispose that rejects without a reason as a failure', async () => {
    let serial = 0
    const value = lazy(() => ++serial, { validate: () => false, dispose: () => Promise.reject() })
    value.get()
    value.get()
    await flushMicrotasks()
    const disposed = recorder.events.find((event) => event.type === 'client.disposed')
    expect(disposed).toMatchObject({ reason: 'stale', error: expect.any(Error) })
  })

  it('prefetch() creates now and swallows a failure, which the next get() meets again', () => {
    const failure = new Error('no network at init')
    let fail = true
    const factory = vi.fn(() => {
      if (fail) throw failure
      return 'client'
    })
    const value = lazy(factory)
    expect(() => value.prefetch()).not.toThrow()
    expect(factory).toHaveBeenCalledTimes(1)
    expect(() => value.get()).toThrow(failure)
    fail = false
    value.prefetch()
    expect(value.peek()).toBe('client')
  })

  it('reset() disposes and forgets; the next get() creates again', async () => {
    const dispose = vi.fn(async () => {})
    let serial = 0
    const value = lazy(() => ++serial, { dispose })
    await value.reset()
    expect(dispose).not.toHaveBeenCalled()
    expect(value.get()).toBe(1)
    await value.reset()
    expect(dispose).toHaveBeenCalledWith(1)
    expect(value.peek()).toBeUndefined()
    expect(value.get()).toBe(2)
    expect(recorder.events.find((event) => event.type === 'client.disposed')).toMatchObject({
      reason: 'reset',
    })
  })
})

describe('lazy with an async factory', () => {
  it('shares one creation between many concurrent callers', async () => {
    const gate = deferred<void>()
    const factory = vi.fn(async () => {
      await gate.promise
      return { id: 'pool' }
    })
    const value = lazy(factory)
    const calls = Array.from({ length: 50 }, () => value.get())
    expect(factory).toHaveBeenCalledTimes(1)
    expect(value.peek()).toBeUndefined()
    gate.resolve()
    const instances = await Promise.all(calls)
    expect(new Set(instances).size).toBe(1)
    expect(factory).toHaveBeenCalledTimes(1)
    expect(recorder.types().filter((type) => type === 'client.created')).toHaveLength(1)
  })

  it('returns the same settled promise object while the instance is current', async () => {
    const value = lazy(async () => ({}))
    const first = value.get()
    await first
    const second = value.get()
    expect(value.get()).toBe(second)
    expect(second).toBe(first)
  })

  it('does not cache a rejection: every waiter gets the factory error, the next get() tries again', async () => {
    const failure = new Error('connect ECONNREFUSED')
    const gate = deferred<void>()
    let calls = 0
    const value = lazy(async () => {
      calls++
      await gate.promise
      if (calls === 1) throw failure
      return 'connected'
    })
    const waiters = [value.get(), value.get(), value.get()]
    gate.resolve()
    for (const waiter of waiters) await expect(waiter).rejects.toBe(failure)
    expect(value.peek()).toBeUndefined()
    await expect(value.get()).resolves.toBe('connected')
    expect(calls).toBe(2)
    expect(recorder.types()).toEqual(['client.create-failed', 'client.created'])
  })

  it('returns a rejected promise when the factory throws synchronously once it is known to be async', async () => {
    const failure = new Error('sync throw')
    let calls = 0
    const factory = (() => {
      calls++
      if (calls === 2) throw failure
      return Promise.resolve(calls)
    }) as () => Promise<number>
    const value = lazy(factory, { validate: () => false })
    await expect(value.get()).resolves.toBe(1)
    await expect(value.get()).rejects.toBe(failure)
    await expect(value.get()).resolves.toBe(3)
  })

  it('validates asynchronously on reuse: concurrent callers share one validation', async () => {
    const verdict = deferred<boolean>()
    const validate = vi.fn(() => verdict.promise)
    const value = lazy(async () => 'conn', { validate })
    await value.get()
    const calls = [value.get(), value.get(), value.get()]
    expect(validate).toHaveBeenCalledTimes(1)
    verdict.resolve(true)
    expect(await Promise.all(calls)).toEqual(['conn', 'conn', 'conn'])
    expect(recorder.types()).toEqual(['client.created', 'client.reused'])
  })

  it('replaces an instance whose validation rejects, disposing it before making the next', async () => {
    const order: string[] = []
    let serial = 0
    const failure = new Error('SELECT 1 failed')
    const value = lazy(
      async () => {
        order.push(`create ${++serial}`)
        return serial
      },
      {
        validate: async (n) => {
          if (n === 1) throw failure
          return true
        },
        dispose: async (n) => {
          order.push(`dispose ${n}`)
        },
      },
    )
    await value.get()
    const calls = [value.get(), value.get()]
    expect(await Promise.all(calls)).toEqual([2, 2])
    expect(order).toEqual(['create 1', 'dispose 1', 'create 2'])
    expect(await value.get()).toBe(2)
    expect(recorder.events.find((event) => event.type === 'client.validated-stale')).toMatchObject({
      error: failure,
    })
  })

  it('replaces an instance that a synchronous validate rejects, with callers joining the replacement', async () => {
    const disposed = deferred<void>()
    let serial = 0
    const factory = vi.fn(async () => ++serial)
    const value = lazy(factory, { validate: (n) => n !== 1, dispose: () => disposed.promise })
    await value.get()
    const calls = [value.get(), value.get(), value.get()]
    disposed.resolve()
    expect(await Promise.all(calls)).toEqual([2, 2, 2])
    expect(factory).toHaveBeenCalledTimes(2)
  })

  it('a creation in flight during reset() never becomes current; its callers get a fresh instance', async () => {
    const gates = [deferred<void>(), deferred<void>()]
    const dispose = vi.fn()
    let serial = 0
    const value = lazy(
      async () => {
        const mine = serial++
        await gates[mine]?.promise
        return `instance ${mine}`
      },
      { dispose },
    )
    const early = value.get()
    await value.reset()
    const late = value.get()
    gates[0]?.resolve()
    await flushMicrotasks()
    expect(dispose).toHaveBeenCalledWith('instance 0')
    expect(value.peek()).toBeUndefined()
    gates[1]?.resolve()
    await expect(early).resolves.toBe('instance 1')
    await expect(late).resolves.toBe('instance 1')
    expect(value.peek()).toBe('instance 1')
    expect(recorder.events.find((event) => event.type === 'client.disposed')).toMatchObject({
      reason: 'superseded',
    })
  })

  it('a validation in flight during reset() hands its callers a fresh instance', async () => {
    const verdict = deferred<boolean>()
    let serial = 0
    const value = lazy(async () => ++serial, { validate: () => verdict.promise })
    await value.get()
    const during = value.get()
    await value.reset()
    verdict.resolve(true)
    await expect(during).resolves.toBe(2)
    expect(value.peek()).toBe(2)
  })

  it('a reset() while a stale instance is being disposed lets the replacement come from after the reset', async () => {
    const disposed = deferred<void>()
    let serial = 0
    const factory = vi.fn(async () => ++serial)
    const value = lazy(factory, { validate: (n) => n !== 1, dispose: () => disposed.promise })
    await value.get()
    const replacing = value.get()
    await value.reset()
    const afterReset = value.get()
    disposed.resolve()
    await expect(replacing).resolves.toBe(2)
    await expect(afterReset).resolves.toBe(2)
    expect(factory).toHaveBeenCalledTimes(2)
  })

  it('prefetch() at module scope leaves no unhandled rejection; the next get() creates again', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const failure = new Error('init failed')
      let calls = 0
      const value = lazy(async () => {
        calls++
        if (calls === 1) throw failure
        return 'ready'
      })
      value.prefetch()
      await flushMicrotasks()
      await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled).toEqual([])
      expect(calls).toBe(1)
      await expect(value.get()).resolves.toBe('ready')
      expect(calls).toBe(2)
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('prefetch() lets a later get() join the creation it started', async () => {
    const factory = vi.fn(async () => 'warm')
    const value = lazy(factory)
    value.prefetch()
    await expect(value.get()).resolves.toBe('warm')
    expect(factory).toHaveBeenCalledTimes(1)
  })
})

describe('lazy options', () => {
  it.each([
    ['factory', () => lazy(undefined as unknown as () => number)],
    ['options', () => lazy(() => 1, null as unknown as object)],
    ['name', () => lazy(() => 1, { name: '' })],
    ['validate', () => lazy(() => 1, { validate: true as unknown as () => boolean })],
    ['dispose', () => lazy(() => 1, { dispose: 'close' as unknown as () => void })],
    ['logger', () => lazy(() => 1, { logger: {} as unknown as Console })],
  ])('rejects a bad %s at construction', (option, make) => {
    try {
      make()
      expect.unreachable()
    } catch (error) {
      expect((error as WarmstartError).code).toBe('ERR_INVALID_OPTION')
      expect((error as Error).message).toMatch(new RegExp(`^lazy: (option "${option}"|${option} )`))
    }
  })

  it('rejects a misspelt option, naming the one meant', () => {
    expect(() => lazy(() => 1, { dispoze: () => {} } as never)).toThrowError(
      'lazy: option "dispoze" is not an option (did you mean "dispose"?); allowed: name, validate, dispose, logger, hookTimeout, createTimeout',
    )
    expect(() => lazy(() => 1, { hookTimeout: '1 second' as never })).toThrowError(
      /^lazy: option "hookTimeout" must be a duration/,
    )
    // 0 would make every async validate that waits on I/O fail: a new instance at each get().
    expect(() => lazy(async () => 1, { hookTimeout: 0 })).toThrowError(
      /^lazy: option "hookTimeout" must be more than 0 ms and at most '15m'/,
    )
    expect(() => lazy(async () => 1, { createTimout: '5s' } as never)).toThrowError(
      /^lazy: option "createTimout" is not an option \(did you mean "createTimeout"\?\)/,
    )
  })
})

describe('lazy hooks that never settle', () => {
  it('a validation that never answers marks the instance stale after hookTimeout, reports it, and a new one is made', async () => {
    const logger = recordingLogger()
    let serial = 0
    const value = lazy(async () => ++serial, {
      validate: (n) => (n === 1 ? new Promise<boolean>(() => {}) : true),
      hookTimeout: 5,
      logger,
    })
    expect(await value.get()).toBe(1)
    expect(await value.get()).toBe(2)
    expect(await value.get()).toBe(2)
    const stale = recorder.events.find((event) => event.type === 'client.validated-stale')
    expect(stale).toMatchObject({ error: expect.objectContaining({ code: 'ERR_LAZY_HOOK_TIMEOUT' }) })
    expect(logger.text()).toContain('validate did not finish within 5 ms (hookTimeout)')
  })

  it('a dispose that never finishes is left behind after hookTimeout and the replacement is made', async () => {
    const logger = recordingLogger()
    let serial = 0
    const value = lazy(async () => ++serial, {
      validate: (n) => n !== 1,
      dispose: () => new Promise<void>(() => {}),
      hookTimeout: 5,
      logger,
    })
    await value.get()
    expect(await value.get()).toBe(2)
    expect(recorder.events.find((event) => event.type === 'client.disposed')).toMatchObject({
      reason: 'stale',
      error: expect.objectContaining({ code: 'ERR_LAZY_HOOK_TIMEOUT' }),
    })
    expect(logger.text()).toContain('dispose failed')
    await value.reset()
  })

  it('callers waiting on a creation that never settles get a fresh instance after reset()', async () => {
    let serial = 0
    const value = lazy(async () => {
      serial += 1
      if (serial === 1) return new Promise<number>(() => {})
      return serial
    })
    const stuck = value.get()
    await value.reset()
    await expect(stuck).resolves.toBe(2)
    await expect(value.get()).resolves.toBe(2)
  })
})

describe('lazy asked for itself while it is being made', () => {
  it('a synchronous factory that calls get() fails once with ERR_LAZY_REENTRANT instead of recursing', () => {
    let calls = 0
    const config: { get(): unknown; peek(): unknown } = lazy(() => {
      calls++
      return { parent: config.get() }
    })
    expect(() => config.get()).toThrow(expect.objectContaining({ code: 'ERR_LAZY_REENTRANT' }))
    expect(calls).toBe(1)
    expect(config.peek()).toBeUndefined()
  })

  it('an async factory that calls get() before its first await gets ERR_LAZY_REENTRANT, and is called once', async () => {
    let calls = 0
    const db: { get(): Promise<unknown> } = lazy(async () => {
      calls++
      return { self: await db.get() }
    })
    await expect(db.get()).rejects.toMatchObject({ code: 'ERR_LAZY_REENTRANT' })
    expect(calls).toBe(1)
  })

  it('a validate that calls get() marks the instance stale rather than recursing', () => {
    let serial = 0
    const value: { get(): number } = lazy(() => ++serial, {
      validate: () => value.get() > 0,
    })
    expect(value.get()).toBe(1)
    expect(value.get()).toBe(2)
    expect(recorder.events.find((event) => event.type === 'client.validated-stale')).toMatchObject({
      error: expect.objectContaining({ code: 'ERR_LAZY_REENTRANT' }),
    })
  })
})
