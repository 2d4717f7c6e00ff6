// The public API of @warmstart/core: what users call. What warmstart's own packages share lives in
// '@warmstart/core/internal' (internal.ts), outside semver.
export { type Clock, systemClock } from './clock.js'
export { type Duration, type DurationUnit, parseDuration } from './duration.js'
export { WarmstartError } from './errors.js'
export {
  ALL_EVENTS_CHANNEL,
  eventChannelName,
  onEvent,
  type WarmstartEvent,
  type WarmstartEventListener,
  type WarmstartEventMap,
  type WarmstartEventType,
} from './events.js'
export { currentRequestId } from './invocation.js'
export type { Logger } from './logger.js'
export type { LambdaContext, LambdaContextLike, Middleware, MiddlewareRequest } from './middleware.js'
export {
  type LongLivedRoot,
  type RegisterRootOptions,
  type RootInspector,
  type RootRevision,
  registerRoot,
} from './registry.js'
export { parseSize, type Size, type SizeUnit } from './size.js'
