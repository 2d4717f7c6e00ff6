import { EventEmitter } from 'node:events'
import { onEvent, WarmstartError, type WarmstartEvent } from '@warmstart/core'
import { configureShutdown, onShutdown } from '@warmstart/lifecycle'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createShutdownRegistry, type ShutdownHost } from '../src/shutdown.js'

class FakeProcess extends EventEmitter implements ShutdownHost {
  readonly exits: number[] = []
  private exited: (() => void) | undefined
  readonly exitedPromise = new Promise<void>((resolve) => {
    this.exited = resolve
  })
  override on(signal: 'SIGTERM', listener: () => void): this {
    return super.on(signal, listener)
  }
  override off(signal: 'SIGTERM', listener: () => void): this {
    return super.off(signal, listener)
  }
  exit(code: number): void {
    this.exits.push(code)
    this.exited?.()
  }
}

function captureEvents(): { events: WarmstartEvent[]; stop: () => void } {
  const events: WarmstartEvent[] = []
  return { events, stop: onEvent((e) => events.push(e)) }
}

describe('createShutdownRegistry', () => {
  let stopCapture: (() => void) | undefined
  afterEach(() => stopCapture?.())

  it('listens to SIGTERM only while a handler is registered', () => {
    const host = new FakeProcess()
    const registry = createShutdownRegistry(host)
    expect(host.listenerCount('SIGTERM')).toBe(0)
    const offA = registry.onShutdown(() => {})
    const offB = registry.onShutdown(() => {})
    expect(host.listenerCount('SIGTERM')).toBe(1)
    offA()
    offA()
    expect(host.listenerCount('SIGTERM')).toBe(1)
    offB()
    expect(host.listenerCount('SIGTERM')).toBe(0)
  })

  it('runs every handler in parallel, then exits with code 0', async () => {
    const host = new FakeProcess()
    const registry = createShutdownRegistry(host)
    const capture = captureEvents()
    stopCapture = capture.stop
    const order: string[] = []
    let releaseSlow: () => void = () => {}
    registry.onShutdown(
      () =>
        new Promise<void>((resolve) => {
          order.push('slow started')
          releaseSlow = () => {
            order.push('slow done')
            resolve()
          }
        }),
    )
    registry.onShutdown(async () => {
      order.push('fast started')
      await Promise.resolve()
      releaseSlow()
    })
    host.emit('SIGTERM')
    host.emit('SIGTERM')
    await host.exitedPromise
    expect(order).toEqual(['slow started', 'fast started', 'slow done'])
    expect(host.exits).toEqual([0])
    expect(capture.events).toContainEqual(
      expect.objectContaining({
        type: 'lifecycle.shutdown',
        handlers: 2,
        completed: 2,
        failed: 0,
        timedOut: 0,
      }),
    )
  })

  it('reports a failing handler by name and code only, and still exits with code 0', async () => {
    const host = new FakeProcess()
    const registry = createShutdownRegistry(host)
    const logger = { warn: vi.fn(), error: vi.fn() }
    registry.configure({ logger })
    registry.onShutdown(() => {
      throw Object.assign(new Error('password=hunter2'), { code: 'ECONNRESET' })
    })
    registry.onShutdown(() => Promise.reject('plain string'))
    host.emit('SIGTERM')
    await host.exitedPromise
    expect(host.exits).toEqual([0])
    expect(logger.error).toHaveBeenCalledWith('lifecycle.shutdown-failed', {
      error: { name: 'Error', code: 'ECONNRESET' },
    })
    expect(logger.error).toHaveBeenCalledWith('lifecycle.shutdown-failed', { error: { name: 'string' } })
    expect(JSON.stringify(logger.error.mock.calls)).not.toContain('hunter2')
  })

  it.each([
    ['has no error()', { warn: vi.fn() }],
    [
      'throws from warn() and error()',
      {
        warn: () => {
          throw new Error('logger down')
        },
        error: () => {
          throw new Error('logger down')
        },
      },
    ],
  ])('still reports the shutdown and exits 0 when the logger %s', async (_case, logger) => {
    const host = new FakeProcess()
    const registry = createShutdownRegistry(host)
    const capture = captureEvents()
    stopCapture = capture.stop
    registry.configure({ logger: logger as never })
    registry.onShutdown(() => {
      throw new Error('close failed')
    })
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {})
    let toStderr = 0
    try {
      host.emit('SIGTERM')
      await host.exitedPromise
      toStderr = stderr.mock.calls.length
    } finally {
      stderr.mockRestore()
    }
    expect(host.exits).toEqual([0])
    expect(capture.events.find((e) => e.type === 'lifecycle.shutdown')).toMatchObject({
      handlers: 1,
      failed: 1,
    })
    if ('error' in logger) expect(toStderr).toBe(1)
    else expect(logger.warn).toHaveBeenCalledWith('lifecycle.shutdown-failed', expect.anything())
  })

  it('exits at the deadline when a handler never settles', async () => {
    vi.useFakeTimers()
    try {
      const host = new FakeProcess()
      const registry = createShutdownRegistry(host)
      const logger = { warn: vi.fn(), error: vi.fn() }
      registry.configure({ deadline: '100ms', logger })
      registry.onShutdown(() => new Promise<void>(() => {}))
      registry.onShutdown(() => {})
      host.emit('SIGTERM')
      await vi.advanceTimersByTimeAsync(99)
      expect(host.exits).toEqual([])
      await vi.advanceTimersByTimeAsync(1)
      await host.exitedPromise
      expect(host.exits).toEqual([0])
      expect(logger.warn).toHaveBeenCalledWith('lifecycle.shutdown-timeout', {
        timedOut: 1,
        handlers: 2,
        deadlineMs: 100,
      })
    } finally {
      vi.useRealTimers()
    }
  })

  it('validates its arguments', () => {
    const registry = createShutdownRegistry(new FakeProcess())
    expect(() => registry.configure({ deadline: 'soon' as never })).toThrow(
      /^configureShutdown: option "deadline" must be a duration/,
    )
    expect(() => registry.configure({ deadline: '10s' })).toThrow(
      /^configureShutdown: option "deadline" must be at most 500 ms: Lambda sends SIGKILL/,
    )
    expect(() => registry.configure({ deadlin: '100ms' } as never)).toThrow(/did you mean "deadline"/)
    expect(() => registry.configure({ logger: 'console' as never })).toThrow(
      /option "logger" must have warn\(\) and error\(\) methods/,
    )
    // An object without warn() would lose the shutdown's timeout report: refused too.
    expect(() => registry.configure({ logger: {} as never })).toThrow(/option "logger" must have warn\(\)/)
    expect(() => registry.onShutdown('close' as never)).toThrow(WarmstartError)
  })
})

describe('onShutdown (process-wide)', () => {
  it('installs one SIGTERM listener on the real process and removes it again', () => {
    const before = process.listenerCount('SIGTERM')
    const off = onShutdown(() => {})
    const off2 = onShutdown(async () => {})
    expect(process.listenerCount('SIGTERM')).toBe(before + 1)
    off()
    off2()
    expect(process.listenerCount('SIGTERM')).toBe(before)
    configureShutdown({ deadline: 250 })
  })
})
