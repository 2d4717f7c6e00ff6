export { type Clock, systemClock } from './clock.js'
export { type Duration, type DurationUnit, parseDuration } from './duration.js'
export { describeValue, invalidOption, WarmstartError } from './errors.js'
export {
  ALL_EVENTS_CHANNEL,
  type EventListening,
  emit,
  eventChannelName,
  eventListening,
  onEvent,
  type WarmstartEvent,
  type WarmstartEventListener,
  type WarmstartEventMap,
  type WarmstartEventType,
} from './events.js'
export { type HiddenField, hiddenField } from './hidden-field.js'
export { currentRequestId, type InvocationInfo, invocationCount, trackInvocation } from './invocation.js'
export type { Logger } from './logger.js'
export type { LambdaContext, LambdaContextLike, Middleware, MiddlewareRequest } from './middleware.js'
export {
  type LongLivedRoot,
  longLivedRoots,
  type RegisterRootOptions,
  type RootInspector,
  type RootRevision,
  registerRoot,
} from './registry.js'
export { processWide } from './shared-state.js'
export { parseSize, type Size, type SizeUnit } from './size.js'
