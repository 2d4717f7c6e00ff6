import { fakeClock } from '@warmstart/testing'
import { describe, expect, it } from 'vitest'
import { MicrotaskBatcher } from '../src/batcher.js'
import { errorCode } from '../src/errors.js'
import { missingPeer, peerLoader } from '../src/peer.js'
import { applyTransform } from '../src/transform.js'
import { hitWindow, ttlCache } from '../src/ttl-cache.js'

const live = new AbortController().signal

describe('MicrotaskBatcher', () => {
  it('sends the keys of one tick together, once each, in batches of at most max', async () => {
    const sent: string[][] = []
    const batcher = new MicrotaskBatcher<string>(2, async (keys) => {
      sent.push(keys)
      return new Map(keys.map((key) => [key, key === 'bad' ? new Error('bad key') : key.toUpperCase()]))
    })
    const reads = [
      batcher.load('a', live),
      batcher.load('b', live),
      batcher.load('a', live),
      batcher.load('c', live),
      batcher.load('bad', live),
    ]
    const outcomes = await Promise.allSettled(reads)
    expect(sent).toEqual([
      ['a', 'b'],
      ['c', 'bad'],
    ])
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([
      'A',
      'B',
      'A',
      'C',
      'bad key',
    ])
    await batcher.load('d', live)
    expect(sent).toHaveLength(3)
  })

  it('rejects every key of a failed batch request', async () => {
    const batcher = new MicrotaskBatcher<string>(10, async () => {
      throw new Error('throttled')
    })
    const outcomes = await Promise.allSettled([
      batcher.load('a', live),
      batcher.load('a', live),
      batcher.load('b', live),
    ])
    expect(
      outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).message === 'throttled'),
    ).toBe(true)
  })
})

describe('optional peers', () => {
  it('loads once, and tries again after a failure', async () => {
    let attempts = 0
    const load = peerLoader(async () => {
      attempts++
      if (attempts === 1) throw new Error('first load fails')
      return { sdk: attempts }
    })
    await expect(load()).rejects.toThrow('first load fails')
    expect(await load()).toEqual({ sdk: 2 })
    expect(await load()).toEqual({ sdk: 2 })
    expect(attempts).toBe(2)
  })

  it('turns a module that is not installed into ERR_PEER_MISSING, and leaves other errors alone', async () => {
    const notFound = await import('@aws-sdk/client-not-installed' as string).catch((e: unknown) => e)
    expect(missingPeer('@aws-sdk/client-ssm', 'ssmParameters', notFound)).toMatchObject({
      code: 'ERR_PEER_MISSING',
      message: 'ssmParameters needs @aws-sdk/client-ssm: install it (npm install @aws-sdk/client-ssm)',
      cause: notFound,
    })
    expect(missingPeer('x', 'y', Object.assign(new Error(), { code: 'MODULE_NOT_FOUND' }))).toMatchObject({
      code: 'ERR_PEER_MISSING',
    })
    const other = new SyntaxError('broken install')
    expect(missingPeer('x', 'y', other)).toBe(other)
    expect(missingPeer('x', 'y', null)).toBe(null)
  })
})

describe('errorCode', () => {
  it('prefers code, then name, then "Error"', () => {
    expect(errorCode(Object.assign(new Error(), { code: 'ECONNRESET' }))).toBe('ECONNRESET')
    expect(errorCode(Object.assign(new Error(), { name: 'ThrottlingException' }))).toBe('ThrottlingException')
    expect(errorCode({ code: '', name: '' })).toBe('Error')
    expect(errorCode('a string')).toBe('Error')
    expect(errorCode(null)).toBe('Error')
  })
})

describe('transforms', () => {
  it('parses JSON from bytes, decodes base64 with whitespace, rejects what is not', () => {
    expect(applyTransform('s', 'json', new TextEncoder().encode('{"a":[1]}'))).toEqual({ a: [1] })
    expect(applyTransform('s', 'binary', 'Ynl0\nZXM=')).toEqual(new TextEncoder().encode('bytes'))
    expect(applyTransform('s', 'json', 'null')).toBeNull()
    // A secret may hold 64 KiB: JSON nested that deep is valid, and is frozen like any other.
    const deep = applyTransform('s', 'json', `${'['.repeat(30_000)}${']'.repeat(30_000)}`)
    let inner = deep as unknown[]
    for (let depth = 1; depth < 30_000; depth++) inner = inner[0] as unknown[]
    expect(inner).toEqual([])
    expect(Object.isFrozen(inner)).toBe(true)
    expect(() => applyTransform('s', 'binary', 'not base64!')).toThrow(
      /s: the value is not valid for transform "binary"/,
    )
  })
})

describe('hitWindow', () => {
  it('holds while every key would be a fresh hit of the same promise, and closes at any change', async () => {
    const clock = fakeClock()
    const start = clock.now()
    const cache = ttlCache<string>({ clock, ttl: 1_000, refreshAhead: 0.5 })
    const load = async (key: string) => `${key}!`
    const window = hitWindow(cache, ['a', 'b'])
    expect(window.holds()).toBe(false) // closed until opened
    await Promise.all([cache.get('a', load), cache.get('b', load)])
    window.open()
    expect(window.holds()).toBe(true)
    window.served()
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2 })
    // At the refresh-ahead point a get() would start a refresh: the window is closed there.
    clock.advance(499)
    expect(window.holds()).toBe(true)
    clock.advance(1)
    expect(window.holds()).toBe(false)
    clock.set(start)
    for (const change of [
      () => cache.invalidate('a'),
      () => cache.invalidate('unrelated'),
      () => cache.clear(),
      () => cache.refresh('b', load),
    ]) {
      await Promise.all([cache.get('a', load), cache.get('b', load)])
      window.open()
      expect(window.holds()).toBe(true)
      await change()
      expect(window.holds()).toBe(false)
    }
    // A key with no value yet keeps the window closed.
    const missing = hitWindow(cache, ['a', 'never-read'])
    missing.open()
    expect(missing.holds()).toBe(false)
  })
})
