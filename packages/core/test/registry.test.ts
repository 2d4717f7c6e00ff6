import { longLivedRoots, registerRoot } from '@warmstart/core'
import { describe, expect, it } from 'vitest'

describe('registerRoot with a revision', () => {
  it("reads the owner's revision of the live value, and undefined without one", () => {
    const cache = { writes: 0, entries: new Map<string, string>() }
    const offCounted = registerRoot('test:counted', cache, (c) => c.entries.entries(), {
      revision: (c) => c.writes,
    })
    const offPlain = registerRoot('test:uncounted', new Map())
    const counted = longLivedRoots().find((root) => root.name === 'test:counted')
    const plain = longLivedRoots().find((root) => root.name === 'test:uncounted')
    expect(counted?.revision()).toBe(0)
    cache.entries.set('k', 'v')
    cache.writes++
    expect(counted?.revision()).toBe(1)
    expect(plain?.revision()).toBeUndefined()
    offCounted()
    offPlain()
  })

  it('passes on "cannot tell" from the owner', () => {
    const off = registerRoot('test:busy', { busy: true }, undefined, { revision: () => undefined })
    expect(
      longLivedRoots()
        .find((root) => root.name === 'test:busy')
        ?.revision(),
    ).toBeUndefined()
    off()
  })

  it('says undefined once the value is collected, without calling the owner', async () => {
    let calls = 0
    let target: object | undefined = { big: 'x'.repeat(1000) }
    const off = registerRoot('test:gone', target, undefined, {
      revision: () => {
        calls++
        return 7
      },
    })
    const root = longLivedRoots().find((r) => r.name === 'test:gone')
    target = undefined
    await new Promise((resolve) => setTimeout(resolve, 0))
    ;(globalThis as { gc?: () => void }).gc?.()
    expect(root?.revision()).toBeUndefined()
    expect(calls).toBe(0)
    off()
  })

  it('rejects a revision that is not a function', () => {
    expect(() => registerRoot('test:bad', {}, undefined, { revision: 3 as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('"revision"') }),
    )
    expect(longLivedRoots().map((root) => root.name)).not.toContain('test:bad')
  })
})

describe('registerRoot with requestKeyed', () => {
  it('says whether the keys come from requests on purpose, false unless told', () => {
    const offKeyed = registerRoot('test:tenants', new Map(), undefined, { requestKeyed: true })
    const offPlain = registerRoot('test:plain', new Map())
    const roots = new Map(longLivedRoots().map((root) => [root.name, root]))
    expect(roots.get('test:tenants')?.requestKeyed).toBe(true)
    expect(roots.get('test:plain')?.requestKeyed).toBe(false)
    offKeyed()
    offPlain()
  })

  it('rejects a requestKeyed that is not a boolean', () => {
    expect(() => registerRoot('test:bad-keyed', {}, undefined, { requestKeyed: 'yes' as never })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining('"requestKeyed"'),
      }),
    )
    expect(longLivedRoots().map((root) => root.name)).not.toContain('test:bad-keyed')
  })
})
