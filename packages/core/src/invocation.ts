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
  /** Only for contexts that cannot take a stamp: frozen, sealed or otherwise not extensible. */
  readonly byContext: WeakMap<object, InvocationInfo>
}

const tracker = processWide<Tracker>('core:invocations', () => ({
  count: 0,
  current: undefined,
  byContext: new WeakMap(),
}))

/** Keeps an invocation's info on its context object. */
interface ContextStamp {
  read(context: object): InvocationInfo | undefined
  write(context: object, info: InvocationInfo): void
}

/**
 * Lambda hands every invocation a new context object. Keyed in a WeakMap, each one cost an insert
 * plus the garbage collector's work on weak entries: the costliest single step of a warm
 * invocation. A private field on the context is an ordinary property store, and nothing outside
 * this class can see it: not Object.keys, JSON.stringify, spreading, Reflect.ownKeys or
 * util.inspect. A base constructor that returns an existing object makes the subclass install its
 * field on that object. The class is process-wide, like the count, so that every copy of core
 * (ESM and CommonJS, two bundles) reads the same field.
 */
function createContextStamp(): ContextStamp {
  class ExistingObject {
    constructor(target: object) {
      // biome-ignore lint/correctness/noConstructorReturn: returning the target is what puts the subclass's field on it
      return target
    }
  }
  class Stamped extends ExistingObject {
    readonly #info: InvocationInfo
    constructor(context: object, info: InvocationInfo) {
      super(context)
      this.#info = info
    }
    static read(context: object): InvocationInfo | undefined {
      return #info in context ? context.#info : undefined
    }
  }
  return {
    read: Stamped.read,
    write: (context, info) => {
      new Stamped(context, info)
    },
  }
}

const stamp = processWide('core:invocation-stamp', createContextStamp)

/**
 * Notes that an invocation has started and returns what is known about it. Every middleware
 * calls it with the invocation's context; the same context object always gets the same answer,
 * so the count is right however many middlewares are in the chain.
 */
export function trackInvocation(context: LambdaContextLike): InvocationInfo {
  let info = stamp.read(context)
  if (info === undefined) {
    // An object that is not extensible never becomes so again: only such a context can be in the WeakMap.
    const extensible = Object.isExtensible(context)
    if (!extensible) info = tracker.byContext.get(context)
    if (info === undefined) {
      info = newInvocation(context)
      // Today a private field can be added even to a frozen object; the language is moving to forbid it.
      if (extensible) stamp.write(context, info)
      else tracker.byContext.set(context, info)
    }
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
