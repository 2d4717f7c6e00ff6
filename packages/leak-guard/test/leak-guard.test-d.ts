import { registerRoot } from '@warmstart/core'
import {
  type LeakFinding,
  type LeakGuard,
  leakGuard,
  leakGuardMiddleware,
  type ValueKind,
} from '@warmstart/leak-guard'
import { type DeepCheck, deepCheck } from '@warmstart/leak-guard/deep'
import { expectTypeOf, test } from 'vitest'

test('public types', () => {
  const guard = leakGuard({
    mode: 'report',
    onFinding: (findings) => expectTypeOf(findings).toEqualTypeOf<readonly LeakFinding[]>(),
  })
  expectTypeOf(guard).toEqualTypeOf<LeakGuard>()
  expectTypeOf(guard.deepCheck(deepCheck)).toEqualTypeOf<Promise<LeakFinding[]>>()
  expectTypeOf(deepCheck).toEqualTypeOf<DeepCheck>()
  leakGuard({ deep: deepCheck })
  // @ts-expect-error: the deep check is imported from its own entry, not switched on
  leakGuard({ deep: true })
  registerRoot('tenants', new Map(), undefined, { requestKeyed: true })
  expectTypeOf(guard.begin).returns.toEqualTypeOf<Promise<void>>()
  const wrapped = guard.wrap(
    async (event: { id: string }, _context: { awsRequestId: string }) => event.id.length,
  )
  expectTypeOf(wrapped).returns.toEqualTypeOf<Promise<number>>()
  expectTypeOf<LeakFinding['kind']>().toEqualTypeOf<ValueKind>()
  expectTypeOf(leakGuardMiddleware().guard).toEqualTypeOf<LeakGuard>()
  // A long-lived value registers with a revision the guard reads through core.
  registerRoot('cache', { writes: 0 }, undefined, { revision: (cache) => cache.writes })
  // @ts-expect-error: a revision is a number (or undefined), read from the registered value
  registerRoot('cache', { writes: 0 }, undefined, { revision: (cache) => String(cache.writes) })
  // @ts-expect-error: mode is one of three
  leakGuard({ mode: 'loud' })
})
