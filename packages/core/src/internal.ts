/**
 * `@warmstart/core/internal`: the primitives warmstart's own packages share, one home for each
 * mechanism. Not public API: it follows the packages' releases, not semver. Users call
 * `@warmstart/core`.
 */
export { checkContextKey } from './context-keys.js'
export {
  joinWithin,
  LONGEST_INVOCATION_MS,
  remainingTime,
  sleep,
  timeBudget,
  withTimeout,
} from './deadline.js'
export { describeValue, invalidOption } from './errors.js'
export {
  type EventChannel,
  type EventListening,
  emit,
  eventChannel,
  eventListening,
} from './events.js'
export { type HiddenField, hiddenField } from './hidden-field.js'
export { currentInvocation, type InvocationInfo, invocationCount, trackInvocation } from './invocation.js'
export { InvocationSlots } from './invocation-slots.js'
export { type LoadOnce, loadOnce } from './load-once.js'
export {
  checkOptions,
  closestName,
  durationOption,
  loggerOption,
  positiveInteger,
  timeLimitOption,
} from './options.js'
export { longLivedRoots } from './registry.js'
export { callSafely, logSafely } from './safe-call.js'
export { type SettledState, settledState } from './settled.js'
export { isProcessWideName, processWide, processWideState } from './shared-state.js'
