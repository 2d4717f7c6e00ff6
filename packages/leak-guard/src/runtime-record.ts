interface RuntimeInvokeStore {
  getContext?(): unknown
}

/**
 * The runtime's own record of the invocation the calling code runs in: the context object of its
 * invoke store (`globalThis.awslambda.InvokeStore`, an AsyncLocalStorage under Managed Instances),
 * which holds the request id. Timers and promises made during the invocation carry it along, so it
 * outlives the invocation without the handler keeping anything: the deep check does not follow it.
 */
export function runtimeRecord(): object | undefined {
  const store = (globalThis as { awslambda?: { InvokeStore?: RuntimeInvokeStore } }).awslambda?.InvokeStore
  const context = store?.getContext?.()
  return typeof context === 'object' && context !== null ? context : undefined
}
