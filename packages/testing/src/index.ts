export { type FakeClock, fakeClock } from './fake-clock.js'
export * from './lambda/index.js'
export * from './local-aws/index.js'
export * from './postgres/index.js'
