import {
  type LeakFinding,
  type LeakGuard,
  leakGuard,
  leakGuardMiddleware,
  type ValueKind,
} from '@warmstart/leak-guard'
import { expectTypeOf, test } from 'vitest'

test('public types', () => {
  const guard = leakGuard({
    mode: 'report',
    onFinding: (findings) => expectTypeOf(findings).toEqualTypeOf<readonly LeakFinding[]>(),
  })
  expectTypeOf(guard).toEqualTypeOf<LeakGuard>()
  expectTypeOf(guard.deepCheck()).toEqualTypeOf<Promise<LeakFinding[]>>()
  const wrapped = guard.wrap(
    async (event: { id: string }, _context: { awsRequestId: string }) => event.id.length,
  )
  expectTypeOf(wrapped).returns.toEqualTypeOf<Promise<number>>()
  expectTypeOf<LeakFinding['kind']>().toEqualTypeOf<ValueKind>()
  expectTypeOf(leakGuardMiddleware().guard).toEqualTypeOf<LeakGuard>()
  // @ts-expect-error: mode is one of three
  leakGuard({ mode: 'loud' })
})
