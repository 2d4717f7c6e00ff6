import {
  describeValue,
  emit,
  eventListening,
  invalidOption,
  longLivedRoots,
  onEvent,
  parseDuration,
  parseSize,
  processWide,
  registerRoot,
  systemClock,
  WarmstartError,
} from '@warmstart/core'
import { describe, expect, it, vi } from 'vitest'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    'core.test': { name: string; n: number }
  }
}

describe('parseDuration', () => {
  it.each([
    [0, 0],
    [1500, 1500],
    [12.6, 13],
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1.5h', 5_400_000],
    ['1d', 86_400_000],
    [' 2s ', 2000],
  ])('%j is %d ms', (input, expected) => {
    expect(parseDuration(input, 'test', 'ttl')).toBe(expected)
  })

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '5', '5 minutes', '', 'm', null, {}, undefined])(
    'rejects %j with a typed error that says what is allowed',
    (input) => {
      const error = (() => {
        try {
          parseDuration(input, 'ttlCache', 'ttl')
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(WarmstartError)
      expect((error as WarmstartError).code).toBe('ERR_INVALID_OPTION')
      expect((error as Error).message).toMatch(/^ttlCache: option "ttl" must be a duration: .*'30s'/)
    },
  )
})

describe('parseSize', () => {
  it.each([
    [0, 0],
    [1000.7, 1000],
    ['100b', 100],
    ['512kb', 524_288],
    ['8mb', 8_388_608],
    ['8MB', 8_388_608],
    ['1.5gb', 1_610_612_736],
  ])('%j is %d bytes', (input, expected) => {
    expect(parseSize(input, 'lru', 'maxBytes')).toBe(expected)
  })

  it.each([-5, Number.NaN, '8 megabytes', '10%', true])('rejects %j', (input) => {
    expect(() => parseSize(input, 'lru', 'maxBytes')).toThrow(/^lru: option "maxBytes" must be a size: /)
  })
})

describe('errors', () => {
  it('keeps a stable code and the cause', () => {
    const cause = new Error('socket hang up')
    const error = new WarmstartError('ERR_X', 'failed', { cause })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('WarmstartError')
    expect(error.code).toBe('ERR_X')
    expect(error.cause).toBe(cause)
    expect('cause' in new WarmstartError('ERR_Y', 'no cause')).toBe(false)
  })

  it('describes values without echoing long strings', () => {
    expect(describeValue('short')).toBe('"short"')
    expect(describeValue('s3cr3t-password-that-is-long')).toBe('a string of 28 characters')
    expect(describeValue(null)).toBe('null')
    expect(describeValue(3)).toBe('3')
    expect(describeValue(false)).toBe('false')
    expect(describeValue([1])).toBe('an array')
    expect(describeValue({ a: 1 })).toBe('an object')
    expect(describeValue(undefined)).toBe('undefined')
    expect(describeValue(() => 1)).toBe('function')
    expect(invalidOption('lru', 'max', 'must be positive').message).toBe('lru: option "max" must be positive')
  })
})

describe('events', () => {
  it('delivers typed events to listeners until they unsubscribe', () => {
    const seen: unknown[] = []
    const off = onEvent((event) => seen.push(event))
    emit('core.test', { name: 'a', n: 1 })
    off()
    emit('core.test', { name: 'b', n: 2 })
    expect(seen).toEqual([{ type: 'core.test', name: 'a', n: 1, time: expect.any(Number) }])
  })

  it('isolates a listener that throws', () => {
    const good = vi.fn()
    const offBad = onEvent(() => {
      throw new Error('listener bug')
    })
    const offGood = onEvent(good)
    expect(() => emit('core.test', { name: 'c', n: 3 })).not.toThrow()
    expect(good).toHaveBeenCalledOnce()
    offBad()
    offGood()
  })

  it('shares listeners with another copy of core loaded in the same process', async () => {
    vi.resetModules()
    const copy = await import('@warmstart/core')
    expect(copy.emit).not.toBe(emit)
    const seen: string[] = []
    const off = onEvent((event) => seen.push(event.type))
    copy.emit('core.test', { name: 'from copy', n: 4 })
    off()
    expect(seen).toEqual(['core.test'])
  })

  it('says whether anybody listens, in every copy of core, until the last listener unsubscribes', async () => {
    vi.resetModules()
    const copy = await import('@warmstart/core')
    expect([eventListening.active, copy.eventListening.active]).toEqual([false, false])
    const offFirst = onEvent(() => {})
    const offSecond = copy.onEvent(() => {})
    expect([eventListening.active, copy.eventListening.active]).toEqual([true, true])
    offFirst()
    offFirst()
    expect(eventListening.active).toBe(true)
    offSecond()
    expect([eventListening.active, copy.eventListening.active]).toEqual([false, false])
  })
})

describe('registry of long-lived state', () => {
  it('lists registered values with their entries, under unique names', () => {
    const map = new Map([['k', 'v']])
    const plain = { a: 1 }
    const offMap = registerRoot('test:map', map, (m) => m.entries())
    const offPlain = registerRoot('test:map', plain)
    const roots = longLivedRoots().filter((root) => root.name.startsWith('test:map'))
    expect(roots.map((root) => root.name)).toEqual(['test:map', 'test:map#2'])
    expect(roots[0]?.target()).toBe(map)
    expect([...(roots[0]?.entries() ?? [])]).toEqual([['k', 'v']])
    expect([...(roots[1]?.entries() ?? [])]).toEqual([])
    offMap()
    offMap()
    expect(longLivedRoots().map((root) => root.name)).not.toContain('test:map')
    offPlain()
    expect(longLivedRoots().filter((root) => root.name.startsWith('test:map'))).toEqual([])
  })

  it('holds values weakly', async () => {
    // vitest runs with --expose-gc (vitest.config.ts), so collection can be forced.
    const gc = (globalThis as { gc?: () => void }).gc
    expect(gc).toBeTypeOf('function')
    let target: object | undefined = { big: 'x'.repeat(1000) }
    const off = registerRoot('test:weak', target)
    const root = longLivedRoots().find((r) => r.name === 'test:weak')
    target = undefined
    await new Promise((resolve) => setTimeout(resolve, 0))
    gc?.()
    expect(root?.target()).toBeUndefined()
    expect([...(root?.entries() ?? [])]).toEqual([])
    off()
  })
})

describe('processWide', () => {
  it('gives every copy of a package the same value under a registered symbol', () => {
    const first = processWide('core:test-state', () => ({ id: 1 }))
    expect(processWide('core:test-state', () => ({ id: 2 }))).toBe(first)
    const holder = globalThis as unknown as Record<symbol, unknown>
    expect(holder[Symbol.for('@warmstart/core:test-state')]).toBe(first)
    expect(Object.keys(globalThis)).not.toContain('@warmstart/core:test-state')
  })
})

describe('clock', () => {
  it('reads the wall clock', () => {
    const before = Date.now()
    expect(systemClock.now()).toBeGreaterThanOrEqual(before)
  })
})
