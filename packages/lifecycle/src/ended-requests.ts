import { hiddenField } from '@warmstart/core/internal'

/**
 * The Middy requests whose end `lifecycleMiddleware` has reported: Middy runs `onError` after
 * `after` when a later middleware's `after` throws, and that invocation must be reported once.
 * The mark is a hidden field on the request object: a WeakSet add per invocation costs far more.
 */
const ended = /* @__PURE__ */ hiddenField<true>()

/** Marks `request` as ended; false when it already was. */
export function markEnded(request: object): boolean {
  if (ended.read(request)) return false
  ended.write(request, true)
  return true
}
