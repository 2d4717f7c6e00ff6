import { fakeClock } from '@warmstart/testing'
import { expect, it } from 'vitest'

it('moves only when told to', () => {
  const clock = fakeClock(1_000)
  expect(clock.now()).toBe(1_000)
  clock.advance('5m')
  expect(clock.now()).toBe(301_000)
  clock.advance(500)
  expect(clock.now()).toBe(301_500)
  clock.set(42)
  expect(clock.now()).toBe(42)
  expect(fakeClock().now()).toBe(Date.UTC(2026, 0, 1))
  expect(() => clock.advance('soon' as '1s')).toThrow(/fakeClock: option "advance" must be a duration/)
})
