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
  /**
   * Wall-clock milliseconds at which Lambda ends this invocation (its start plus
   * `context.getRemainingTimeInMillis()` when first seen), or undefined when the context has no clock.
   */
  readonly deadline: number | undefined
}

interface Tracker {
  count: number
  current: InvocationInfo | undefined
  /**
   * Under Managed Instances, the invocations seen recently by request id, so that code running in
   * one of several overlapping invocations finds its own deadline. Nothing tells core when an
   * invocation ends; an entry goes once its deadline has passed (or, without one, when the table is full).
   */
  byRequestId: Map<string, InvocationInfo>
}

const tracker = /* @__PURE__ */ processWide<Tracker>('core:invocations', () => ({
  count: 0,
  current: undefined,
  byRequestId: new Map(),
}))

const MAX_TRACKED = 1024

// Lambda hands every invocation a new context object: the info is kept on it in a hidden field
// (see hiddenField: far cheaper than a WeakMap insert per invocation, and invisible), one field
// for the whole process so that every copy of core (ESM and CommonJS, two bundles) reads it.
const stamp = /* @__PURE__ */ processWide('core:invocation-stamp', () => hiddenField<InvocationInfo>())

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
    if (invokeStore()?.hasContext() === true) remember(info)
  }
  tracker.current = info
  return info
}

function remember(info: InvocationInfo): void {
  const table = tracker.byRequestId
  if (table.size >= MAX_TRACKED) {
    const now = Date.now()
    for (const [id, seen] of table) if (seen.deadline === undefined || seen.deadline <= now) table.delete(id)
    if (table.size >= MAX_TRACKED) table.delete(table.keys().next().value as string)
  }
  table.set(info.requestId, info)
}

function newInvocation(context: LambdaContextLike): InvocationInfo {
  tracker.count += 1
  const startedAt = Date.now()
  const remaining = context.getRemainingTimeInMillis?.()
  return {
    requestId: context.awsRequestId ?? `local-${tracker.count}`,
    sequence: tracker.count,
    coldStart: tracker.count === 1,
    startedAt,
    deadline: typeof remaining === 'number' && Number.isFinite(remaining) ? startedAt + remaining : undefined,
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
  const store = invokeStore()
  if (store?.hasContext()) return store.getRequestId()
  return tracker.current?.requestId
}

function invokeStore(): RuntimeInvokeStore | undefined {
  return (globalThis as { awslambda?: { InvokeStore?: RuntimeInvokeStore } }).awslambda?.InvokeStore
}

/**
 * The invocation the calling code runs in, as far as warmstart has seen it: under Managed Instances
 * the one the runtime's invoke store names, otherwise the last one tracked. Undefined before the
 * first invocation, and once the current one's deadline has passed (code then runs between
 * invocations, as in a test, and no invocation's budget applies to it).
 */
export function currentInvocation(): InvocationInfo | undefined {
  const store = invokeStore()
  const info = store?.hasContext() === true ? tracker.byRequestId.get(store.getRequestId()) : tracker.current
  if (info === undefined) return undefined
  return info.deadline !== undefined && info.deadline <= Date.now() ? undefined : info
}
