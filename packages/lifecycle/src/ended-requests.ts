/**
 * The Middy requests whose end `lifecycleMiddleware` has reported: Middy runs `onError` after
 * `after` when a later middleware's `after` throws, and that invocation must be reported once.
 * The mark is a private field on the request object rather than a WeakSet entry: a WeakSet add
 * per invocation costs far more (the insert, and the garbage collector's work on weak entries),
 * and nothing outside this module can see the field. A base constructor that returns an existing
 * object makes the subclass install its field on that object.
 */
class ExistingObject {
  constructor(target: object) {
    // biome-ignore lint/correctness/noConstructorReturn: returning the target is what puts the subclass's field on it
    return target
  }
}

class EndedRequest extends ExistingObject {
  readonly #ended = true

  static has(request: object): boolean {
    return #ended in request
  }
}

/** Requests that cannot take a field (frozen, sealed or otherwise not extensible). */
const unextensible = new WeakSet<object>()

/** Marks `request` as ended; false when it already was. */
export function markEnded(request: object): boolean {
  if (EndedRequest.has(request)) return false
  // Today a private field can be added even to a frozen object; the language is moving to forbid it.
  if (Object.isExtensible(request)) {
    new EndedRequest(request)
    return true
  }
  if (unextensible.has(request)) return false
  unextensible.add(request)
  return true
}
