import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { ALL_EVENTS_CHANNEL, eventChannelName, onEvent, type WarmstartEvent } from '@warmstart/core'
import {
  callSafely,
  checkOptions,
  closestName,
  currentInvocation,
  durationOption,
  eventChannel,
  eventListening,
  InvocationSlots,
  joinWithin,
  loadOnce,
  logSafely,
  positiveInteger,
  remainingTime,
  settledState,
  sleep,
  timeBudget,
  trackInvocation,
  withTimeout,
} from '@warmstart/core/internal'
import { afterEach, describe, expect, it, vi } from 'vitest'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    'internal.test': { n: number }
  }
}

describe('checkOptions', () => {
  const allowed = ['ttl', 'jitter', 'transform', 'maxBytes'] as const

  it('accepts undefined and objects whose keys are all allowed', () => {
    expect(() => checkOptions('ssmParameters', undefined, allowed)).not.toThrow()
    expect(() => checkOptions('ssmParameters', { ttl: 1, jitter: 0.1 }, allowed)).not.toThrow()
  })

  it.each([
    ['tll', 'ttl'],
    ['transfrom', 'transform'],
    ['maxByte', 'maxBytes'],
    ['TTL', 'ttl'],
  ])('rejects the misspelt %s and suggests %s', (key, guess) => {
    expect(() => checkOptions('ssmParameters', { [key]: 1 }, allowed)).toThrowError(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: `ssmParameters: option "${key}" is not an option (did you mean "${guess}"?); allowed: ttl, jitter, transform, maxBytes`,
      }),
    )
  })

  it('suggests nothing for a name far from every option, and names a nested object', () => {
    expect(() => checkOptions('pgConnection', { zzzzzz: 1 }, allowed)).toThrowError(
      'pgConnection: option "zzzzzz" is not an option; allowed: ttl, jitter, transform, maxBytes',
    )
    expect(() => checkOptions('pgConnection', { atempts: 1 }, ['attempts', 'base'], 'retry')).toThrowError(
      'pgConnection: option "retry.atempts" is not an option (did you mean "retry.attempts"?); allowed: attempts, base',
    )
  })

  it.each([null, 5, 'ttl', [1]])('rejects %j as options', (options) => {
    expect(() => checkOptions('lazy', options, allowed)).toThrowError(/^lazy: options must be an object/)
    expect(() => checkOptions('lazy', options, allowed, 'retry')).toThrowError(
      /^lazy: option "retry" must be an object/,
    )
  })

  it('finds the closest name only within a third of its length', () => {
    expect(closestName('validateAfterIdel', ['validateAfterIdle', 'maxLifetime'])).toBe('validateAfterIdle')
    expect(closestName('mod', ['mode', 'deep'])).toBe('mode')
    expect(closestName('abc', ['xyz'])).toBeUndefined()
  })
})

describe('positiveInteger and durationOption', () => {
  it('reads whole numbers at or above the minimum', () => {
    expect(positiveInteger('c', 'n', undefined, 4)).toBe(4)
    expect(positiveInteger('c', 'n', 0, 4, 0)).toBe(0)
    expect(() => positiveInteger('c', 'n', 0, 4)).toThrowError(
      'c: option "n" must be a whole number >= 1 (got 0)',
    )
    expect(() => positiveInteger('c', 'n', 1.5, 4)).toThrowError(/whole number/)
  })

  it("reads durations, and 'forever' only where allowed, naming the component", () => {
    expect(durationOption('ssmParameters', 'ttl', '5m', 1)).toBe(300_000)
    expect(durationOption('ssmParameters', 'ttl', undefined, 7)).toBe(7)
    expect(durationOption('ssmParameters', 'ttl', 'forever', 1, true)).toBe(Number.POSITIVE_INFINITY)
    expect(() => durationOption('ssmParameters', 'ttl', '5 minutes', 1, true)).toThrowError(
      /^ssmParameters: option "ttl" must be a duration: .*'forever' \(got "5 minutes"\)$/,
    )
    expect(() => durationOption('ssmParameters', 'ttl', 'forever', 1)).toThrowError(
      /^ssmParameters: option "ttl"/,
    )
  })
})

describe('InvocationSlots', () => {
  it('keeps one invocation in its slot and overlapping ones in a map', () => {
    const slots = new InvocationSlots<number>()
    slots.set('a', 1)
    slots.set('b', 2)
    slots.set('a', 3)
    expect([slots.get('a'), slots.get('b'), slots.get('c'), slots.size]).toEqual([3, 2, undefined, 2])
    expect([...slots.values()]).toEqual([3, 2])
    expect(slots.has('b')).toBe(true)
    expect(slots.delete('a')).toBe(true)
    expect(slots.delete('a')).toBe(false)
    slots.set('c', 4)
    expect([...slots.values()].sort()).toEqual([2, 4])
    expect(slots.delete('b')).toBe(true)
    slots.clear()
    expect([slots.size, slots.has('c'), [...slots.values()]]).toEqual([0, false, []])
  })
})

describe('loadOnce', () => {
  it('loads once for concurrent callers and keeps the value', async () => {
    const load = vi.fn(async () => 'sdk')
    const get = loadOnce(load)
    expect(get.peek()).toBeUndefined()
    expect(await Promise.all([get(), get()])).toEqual(['sdk', 'sdk'])
    expect(await get()).toBe('sdk')
    expect(get.peek()).toBe('sdk')
    expect(load).toHaveBeenCalledTimes(1)
  })

  it('does not keep a failure, and loads again after reset', async () => {
    let attempt = 0
    const get = loadOnce(async () => {
      attempt += 1
      if (attempt === 1) throw new Error('not installed')
      return attempt
    })
    await expect(get()).rejects.toThrow('not installed')
    expect(await get()).toBe(2)
    get.reset()
    expect(get.peek()).toBeUndefined()
    expect(await get()).toBe(3)
  })

  it('a load reset while it runs does not become the kept value', async () => {
    let release!: (value: string) => void
    const get = loadOnce(() => new Promise<string>((resolve) => (release = resolve)))
    const first = get()
    await Promise.resolve()
    get.reset()
    release('old')
    expect(await first).toBe('old')
    expect(get.peek()).toBeUndefined()
  })
})

describe('settledState', () => {
  it('reads a fulfilled value synchronously once it has settled, and the same record each time', async () => {
    const promise = Promise.resolve(42)
    const state = settledState(promise)
    expect(state.status).toBe('pending')
    await promise
    await Promise.resolve()
    expect(settledState(promise)).toBe(state)
    expect([state.status, state.value]).toEqual(['fulfilled', 42])
  })

  it('marks a rejection without taking it from whoever awaits', async () => {
    const promise = Promise.reject(new Error('down'))
    const state = settledState(promise)
    await expect(promise).rejects.toThrow('down')
    expect(state.status).toBe('rejected')
  })
})

describe('deadlines', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('reads the remaining time of the invocation last tracked, and nothing once its deadline has passed', () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const info = trackInvocation({ awsRequestId: 'deadline-1', getRemainingTimeInMillis: () => 3_000 })
    expect(info.deadline).toBe(1_003_000)
    expect(currentInvocation()).toBe(info)
    vi.setSystemTime(1_001_000)
    expect(remainingTime()).toBe(2_000)
    expect(timeBudget(5_000)).toBe(2_000)
    expect(timeBudget(1_000)).toBe(1_000)
    expect(timeBudget(5_000, 500)).toBe(1_500)
    expect(timeBudget(5_000, 2_500)).toBe(0)
    vi.setSystemTime(1_003_000)
    expect(currentInvocation()).toBeUndefined()
    expect(remainingTime()).toBeUndefined()
    expect(timeBudget(5_000)).toBe(5_000)
  })

  it('has no deadline for a context without a clock', () => {
    const info = trackInvocation({ awsRequestId: 'deadline-2' })
    expect(info.deadline).toBeUndefined()
    expect(remainingTime()).toBeUndefined()
    expect(timeBudget(250, 100)).toBe(250)
  })

  it('finds the deadline of the invocation the invoke store names under Managed Instances', () => {
    vi.useFakeTimers({ now: 2_000_000 })
    let current = 'mi-a'
    const awslambda = { InvokeStore: { hasContext: () => true, getRequestId: () => current } }
    const global = globalThis as { awslambda?: unknown }
    global.awslambda = awslambda
    try {
      trackInvocation({ awsRequestId: 'mi-a', getRemainingTimeInMillis: () => 1_000 })
      trackInvocation({ awsRequestId: 'mi-b', getRemainingTimeInMillis: () => 9_000 })
      expect(remainingTime()).toBe(1_000)
      current = 'mi-b'
      expect(remainingTime()).toBe(9_000)
      current = 'mi-unknown'
      expect(remainingTime()).toBeUndefined()
    } finally {
      delete global.awslambda
    }
  })

  it('joinWithin bounds a joiner by its own invocation, and leaves the work to the others', async () => {
    vi.useFakeTimers({ now: 3_000_000 })
    let finish!: (value: string) => void
    const work = new Promise<string>((resolve) => {
      finish = resolve
    })
    const late = (ms: number) => new Error(`gave up after ${ms} ms`)
    // Outside an invocation, or with more time left than the work has: the work itself.
    expect(joinWithin(work, 3_005_000, 100, late)).toBe(work)
    trackInvocation({ awsRequestId: 'join-long', getRemainingTimeInMillis: () => 9_000 })
    expect(joinWithin(work, 3_005_000, 100, late)).toBe(work)
    trackInvocation({ awsRequestId: 'join-short', getRemainingTimeInMillis: () => 1_000 })
    const joined = joinWithin(work, 3_005_000, 100, late)
    expect(joined).not.toBe(work)
    const outcome = joined.then(
      () => 'waited',
      (error: Error) => error.message,
    )
    await vi.advanceTimersByTimeAsync(899)
    finish('value')
    // Settled in time: the joiner gets the work's value.
    expect(await outcome).toBe('waited')
    const second = joinWithin(new Promise<string>(() => {}), 3_005_000, 100, late).then(
      () => 'waited',
      (error: Error) => error.message,
    )
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await second).toMatch(/^gave up after \d+ ms$/)
    expect(await work).toBe('value')
  })

  it('withTimeout resolves with the work, or rejects and aborts at the budget', async () => {
    expect(
      await withTimeout(
        async () => 'done',
        1_000,
        () => new Error('late'),
      ),
    ).toBe('done')
    let aborted: unknown
    const never = withTimeout(
      (signal) =>
        new Promise<string>(() => {
          signal.addEventListener('abort', () => (aborted = signal.reason))
        }),
      5,
      () => new Error('late'),
    )
    await expect(never).rejects.toThrow('late')
    expect(aborted).toBeInstanceOf(Error)
    await expect(
      withTimeout(
        async () => Promise.reject(new Error('boom')),
        1_000,
        () => new Error('late'),
      ),
    ).rejects.toThrow('boom')
    await expect(
      withTimeout(
        () => {
          throw new Error('sync')
        },
        1_000,
        () => new Error('late'),
      ),
    ).rejects.toThrow('sync')
    expect(
      await withTimeout(
        async () => 1,
        Number.POSITIVE_INFINITY,
        () => new Error('late'),
      ),
    ).toBe(1)
  })
})

describe('outer signals', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('withTimeout stops at an outer abort with its reason, and leaves no timer or listener behind', async () => {
    vi.useFakeTimers()
    const outer = new AbortController()
    let inner: AbortSignal | undefined
    const running = withTimeout(
      (signal) => {
        inner = signal
        return new Promise<string>(() => {})
      },
      60_000,
      () => new Error('late'),
      outer.signal,
    ).catch((error: unknown) => error)
    expect(vi.getTimerCount()).toBe(1)
    const reason = new Error('ended')
    outer.abort(reason)
    expect(await running).toBe(reason)
    expect(inner?.reason).toBe(reason)
    expect(vi.getTimerCount()).toBe(0)
    // With no time limit the outer signal alone bounds it; aborted already, the work never runs.
    const unbounded = new AbortController()
    const forever = withTimeout(
      () => new Promise<number>(() => {}),
      Number.POSITIVE_INFINITY,
      () => new Error('never'),
      unbounded.signal,
    ).catch((error: unknown) => error)
    unbounded.abort(reason)
    expect(await forever).toBe(reason)
    let ran = false
    const refused = await withTimeout(
      async () => {
        ran = true
        return 1
      },
      1_000,
      () => new Error('late'),
      unbounded.signal,
    ).catch((error: unknown) => error)
    expect(refused).toBe(reason)
    expect(ran).toBe(false)
    // Settled first: the listener is removed, so a later abort changes nothing.
    const later = new AbortController()
    expect(
      await withTimeout(
        async () => 'done',
        1_000,
        () => new Error('late'),
        later.signal,
      ),
    ).toBe('done')
    later.abort(new Error('too late'))
    expect(vi.getTimerCount()).toBe(0)
  })

  it('sleep waits its time, or ends early without rejecting when the signal aborts', async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    let slept = false
    const napping = sleep(1_000, controller.signal).then(() => {
      slept = true
    })
    await vi.advanceTimersByTimeAsync(999)
    expect(slept).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await napping
    expect(slept).toBe(true)
    const cut = sleep(60_000, controller.signal)
    controller.abort()
    await cut
    expect(vi.getTimerCount()).toBe(0)
    await sleep(60_000, controller.signal)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('safe calls', () => {
  it('callSafely reports a throw and swallows a rejection', async () => {
    expect(callSafely(undefined)).toBe(true)
    expect(callSafely((n: number) => n + 1, 1)).toBe(true)
    expect(
      callSafely(() => {
        throw new Error('observer')
      }),
    ).toBe(false)
    expect(callSafely(async () => Promise.reject(new Error('later')))).toBe(true)
    await new Promise((resolve) => setImmediate(resolve))
  })

  it('logSafely falls back to a level the logger has and survives a throwing logger', () => {
    const lines: string[] = []
    const warnOnly = { warn: (message: string) => lines.push(`warn ${message}`) }
    logSafely(warnOnly as never, 'error', 'shutdown failed')
    logSafely(warnOnly as never, 'debug', 'dropped')
    logSafely(undefined, 'error', 'silent')
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      logSafely(
        {
          warn: () => {
            throw new Error('logger broke')
          },
          error: () => {},
        },
        'warn',
        'cache stale',
        { key: 'k' },
      )
      expect(stderr).toHaveBeenCalledWith('cache stale', { key: 'k' })
    } finally {
      stderr.mockRestore()
    }
    expect(lines).toEqual(['warn shutdown failed'])
  })
})

describe('events on diagnostics_channel', () => {
  it('publishes each event on its own channel and on the channel of all events', () => {
    const own: unknown[] = []
    const every: unknown[] = []
    const ownSubscriber = (message: unknown) => own.push(message)
    const everySubscriber = (message: unknown) => every.push(message)
    const channel = eventChannel('internal.test')
    expect(channel.active).toBe(false)
    subscribe(eventChannelName('internal.test'), ownSubscriber)
    expect([channel.active, eventListening.active]).toEqual([true, true])
    channel.publish({ n: 1 })
    subscribe(ALL_EVENTS_CHANNEL, everySubscriber)
    channel.publish({ n: 2 })
    unsubscribe(eventChannelName('internal.test'), ownSubscriber)
    channel.publish({ n: 3 })
    unsubscribe(ALL_EVENTS_CHANNEL, everySubscriber)
    channel.publish({ n: 4 })
    expect(channel.active).toBe(false)
    expect(own.map((e) => (e as WarmstartEvent & { n: number }).n)).toEqual([1, 2])
    expect(every.map((e) => (e as WarmstartEvent & { n: number }).n)).toEqual([2, 3])
    expect(own[0]).toMatchObject({ type: 'internal.test', time: expect.any(Number) })
  })

  it('onEvent isolates a listener that throws', () => {
    const seen: number[] = []
    const stopThrowing = onEvent(() => {
      throw new Error('listener')
    })
    const stop = onEvent((event) => {
      if (event.type === 'internal.test') seen.push(event.n)
    })
    eventChannel('internal.test').publish({ n: 5 })
    stop()
    stopThrowing()
    eventChannel('internal.test').publish({ n: 6 })
    expect(seen).toEqual([5])
  })
})
