import { hiddenField } from './hidden-field.js'
import type { LambdaContextLike } from './middleware.js'
import { processWide } from './shared-state.js'

/** What warmstart knows about one invocation of this execution environment. */
export interface InvocationInfo {
  /** `context.awsRequestId`, or a generated id when the context has none. */
  readonly requestId: string
  /** 1 for the first invocation this environment serves, then 2, 3, ... */
  readonly sequence: number
  /** True for the first invocation of the environment only. */
  readonly coldStart: boolean
  /** Wall-clock milliseconds when warmstart first saw this invocation. */
  readonly startedAt: number
}

interface Tracker {
  count: number
  current: InvocationInfo | undefined
}

const tracker = processWide<Tracker>('core:invocations', () => ({
  count: 0,
  current: undefined,
}))

// Lambda hands every invocation a new context object: the info is kept on it in a hidden field
// (see hiddenField: far cheaper than a WeakMap insert per invocation, and invisible), one field
// for the whole process so that every copy of core (ESM and CommonJS, two bundles) reads it.
const stamp = processWide('core:invocation-stamp', () => hiddenField<InvocationInfo>())

/**
 * Notes that an invocation has started and returns what is known about it. Every middleware
 * calls it with the invocation's context; the same context object always gets the same answer,
 * so the count is right however many middlewares are in the chain.
 */
export function trackInvocation(context: LambdaContextLike): InvocationInfo {
  let info = stamp.read(context)
  if (info === undefined) {
    info = newInvocation(context)
    stamp.write(context, info)
  }
  tracker.current = info
  return info
}

function newInvocation(context: LambdaContextLike): InvocationInfo {
  tracker.count += 1
  return {
    requestId: context.awsRequestId ?? `local-${tracker.count}`,
    sequence: tracker.count,
    coldStart: tracker.count === 1,
    startedAt: Date.now(),
  }
}

/** How many invocations this environment has started (as seen by `trackInvocation`). */
export function invocationCount(): number {
  return tracker.count
}

interface RuntimeInvokeStore {
  hasContext(): boolean
  getRequestId(): string
}

/**
 * The request id of the invocation the calling code runs in. Under Lambda Managed Instances,
 * where one process serves many invocations at once, the runtime keeps it in its invoke store
 * (`globalThis.awslambda.InvokeStore`, an AsyncLocalStorage), and that answer wins. In the classic
 * mode one invocation runs at a time, so it is the last one `trackInvocation` saw.
 */
export function currentRequestId(): string | undefined {
  const store = (globalThis as { awslambda?: { InvokeStore?: RuntimeInvokeStore } }).awslambda?.InvokeStore
  if (store?.hasContext()) return store.getRequestId()
  return tracker.current?.requestId
}
