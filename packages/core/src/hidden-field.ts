/** A value kept on objects where nothing else can see it. */
export interface HiddenField<T> {
  /** The value kept on `target`, or undefined. */
  read(target: object): T | undefined
  /** Keeps `value` on `target`, replacing any earlier one. */
  write(target: object, value: T): void
}

/**
 * A private class field installed on objects that already exist: a base constructor that returns
 * its argument makes the subclass put its field on that object. Per object this is an ordinary
 * property store, where a WeakMap costs an insert plus the garbage collector's work on weak
 * entries, which matters for an object made per invocation (Lambda's context, Middy's request).
 * Nothing outside can see the field: not Object.keys, JSON.stringify, spreading, Reflect.ownKeys
 * or util.inspect. Objects that cannot be extended (frozen, sealed) are kept in a WeakMap instead.
 * Share one field across copies of a package with `processWide`.
 */
export function hiddenField<T>(): HiddenField<T> {
  class ExistingObject {
    constructor(target: object) {
      // biome-ignore lint/correctness/noConstructorReturn: returning the target is what puts the subclass's field on it
      return target
    }
  }
  class Holder extends ExistingObject {
    #value: T
    constructor(target: object, value: T) {
      super(target)
      this.#value = value
    }
    static read(target: object): T | undefined {
      if (#value in target) return target.#value
      // An object that is not extensible never becomes so again: only such an object can be in the map.
      return Object.isExtensible(target) ? undefined : unextensible.get(target)
    }
    static write(target: object, value: T): void {
      if (#value in target) target.#value = value
      // Today a private field can be added even to a frozen object; the language is moving to forbid it.
      else if (Object.isExtensible(target)) new Holder(target, value)
      else unextensible.set(target, value)
    }
  }
  const unextensible = new WeakMap<object, T>()
  return { read: Holder.read, write: Holder.write }
}
