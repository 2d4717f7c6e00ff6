// `@warmstart/testing/clock`: `fakeClock()`, a clock that tests move by hand.
export { type FakeClock, fakeClock } from './fake-clock.js'
