import { Session } from 'node:inspector'
import { registerRoot } from '@warmstart/core'
import { type LeakFinding, leakGuard } from '@warmstart/leak-guard'
import { deepCheck } from '@warmstart/leak-guard/deep'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { byLikelyClosure, ScopeReader } from '../src/module-scope.js'
import { UNTIMED } from './corpus/events.js'

// What the production check reads through the inspector besides scopes: a settled promise's value
// and a WeakMap's entries, and the errors' fields that are not enumerable.

const g = globalThis as unknown as Record<string, unknown>
afterEach(() => {
  vi.restoreAllMocks()
  for (const key of Object.keys(g)) if (key.startsWith('s_')) delete g[key]
})

function collecting(options: { watch?: false } = {}) {
  const findings: LeakFinding[] = []
  const guard = leakGuard({ mode: 'report', onFinding: (f) => findings.push(...f), ...UNTIMED, ...options })
  return { findings, guard, paths: () => findings.map((finding) => finding.path) }
}

const event = (userId: string) => ({ body: JSON.stringify({ userId }) })
const context = (id: string) => ({ awsRequestId: id })

describe('promises', () => {
  it('reads the value of a fulfilled and of a rejected promise, and nothing of a pending one', async () => {
    const { guard, paths } = collecting({ watch: false })
    const never = new Promise(() => {})
    await guard.wrap((input: { body: string }) => {
      const { userId } = JSON.parse(input.body) as { userId: string }
      const rejected = Promise.reject(new Error(`no profile for ${userId}`))
      rejected.catch(() => {})
      g.s_promises = { fulfilled: Promise.resolve({ owner: userId }), rejected, never }
    })(event('user-prom-1234'), context('promises-1'))
    expect(paths().sort()).toEqual([
      'globalThis.s_promises.fulfilled → its settled value.owner',
      'globalThis.s_promises.rejected → its settled value.message',
    ])
  })

  it('reads 32 promises in one check at most (a bound, not a cursor: the 33rd is not read)', async () => {
    const { guard, paths } = collecting({ watch: false })
    const handler = guard.wrap((input: { body: string }) => {
      const { userId } = JSON.parse(input.body) as { userId: string }
      g.s_many = Array.from({ length: 40 }, (_, index) => Promise.resolve(index === 39 ? userId : 'nothing'))
    })
    await handler(event('user-many-5678'), context('many-1'))
    expect(paths()).toEqual([])
  })

  it('reads no promise when the inspector fails, for good', async () => {
    const reader = new ScopeReader()
    vi.spyOn(Session.prototype, 'post').mockImplementation(() => {
      throw new Error('inspector gone')
    })
    expect(reader.promiseResult(Promise.resolve(1))).toBeUndefined()
    expect(reader.weakMapEntries(new WeakMap())).toEqual([])
    const other = new ScopeReader()
    expect(other.weakMapEntries(new WeakMap())).toEqual([])
    expect(other.promiseResult(Promise.resolve(1))).toBeUndefined()
    vi.restoreAllMocks()
    expect(reader.promiseResult(Promise.resolve(1))).toBeUndefined()
    expect(reader.weakMapEntries(new WeakMap([[{}, 1]]))).toEqual([])
  })
})

describe('WeakMaps', () => {
  it('reads an entry whose key the walk meets, before the map or after it, and none whose key it does not', async () => {
    const { guard, paths } = collecting({ watch: false })
    await guard.wrap((input: { body: string }) => {
      const { userId, email, orderId } = JSON.parse(input.body) as Record<string, string>
      const before = { name: 'before' }
      const after = { name: 'after' }
      const map = new WeakMap<object, unknown>([
        [before, { user: userId }],
        [after, { email }],
        [{ name: 'gone' }, { orderId }],
      ])
      g.s_a = { before }
      g.s_b = { map }
      g.s_c = { after }
    })(
      {
        body: JSON.stringify({
          userId: 'user-weak-9012',
          email: 'weak.person@example.org',
          orderId: 'order-weak-9012',
        }),
      },
      context('weak-1'),
    )
    expect(paths().sort()).toEqual([
      'globalThis.s_b.map → its WeakMap value.email',
      'globalThis.s_b.map → its WeakMap value.user',
    ])
  })
})

describe('errors', () => {
  it("reads an error's message and cause", async () => {
    const { guard, paths } = collecting({ watch: false })
    await guard.wrap((input: { body: string }) => {
      const { userId } = JSON.parse(input.body) as { userId: string }
      g.s_error = new Error('upstream failed', { cause: { userId } })
      g.s_message = new TypeError(`bad input from ${userId}`)
    })(event('user-err-3456'), context('errors-1'))
    expect(paths().sort()).toEqual(['globalThis.s_error.cause.userId', 'globalThis.s_message.message'])
  })
})

describe('the deep check and request-keyed roots', () => {
  it("does not report a request-keyed root's keys, and still reports request data in its values", async () => {
    const findings: LeakFinding[] = []
    const guard = leakGuard({ mode: 'report', onFinding: (f) => findings.push(...f), ...UNTIMED })
    const perTenant = new Map<string, unknown>()
    const stop = registerRoot('s:per-tenant', perTenant, (map) => map.entries(), { requestKeyed: true })
    g.s_perTenant = perTenant
    try {
      await guard.wrap((input: { body: string }) => {
        const { userId, tenantId } = JSON.parse(input.body) as { userId: string; tenantId: string }
        perTenant.set(tenantId, { lastUser: userId })
      })(
        { body: JSON.stringify({ userId: 'user-keyed-7788', tenantId: 'tenant-keyed-7788' }) },
        context('keyed-1'),
      )
      const deep = await guard.deepCheck(deepCheck)
      expect(deep.length).toBeGreaterThan(0)
      for (const finding of deep) expect(finding.kind).toBe('user id')
    } finally {
      stop()
    }
  })
})

describe('the order module functions are learned in', () => {
  it("first a closure's, then functions made at run time, then declared ones", () => {
    function declared() {}
    const made = (
      () => () =>
        1
    )()
    const inClosure = () => 2
    const order = byLikelyClosure([
      ['declared', declared, false],
      ['track', made, false],
      ['inner', inClosure, true],
    ]).map(([name]) => name)
    expect(order).toEqual(['inner', 'track', 'declared'])
  })
})
