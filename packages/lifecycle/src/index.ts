export { invocationCount } from '@warmstart/core/internal'
export {
  type SettleOptions,
  type SettleReport,
  settleBackgroundWork,
  type WaitUntilOptions,
  waitUntil,
} from './background-work.js'
export { environmentAge, initDuration, isColdStart, type StartKind, startKind } from './environment.js'
export { type LifecycleMiddlewareOptions, lifecycleMiddleware } from './middleware.js'
export { configureShutdown, onShutdown, type ShutdownHandler, type ShutdownOptions } from './shutdown.js'
