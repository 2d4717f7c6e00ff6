/** What is known of a promise without awaiting it; see `settledState`. */
export interface SettledState<T> {
  readonly status: 'pending' | 'fulfilled' | 'rejected'
  /** The fulfilled value, once `status` is 'fulfilled'. */
  readonly value: T | undefined
}

interface MutableState<T> {
  status: 'pending' | 'fulfilled' | 'rejected'
  value: T | undefined
}

const states = new WeakMap<Promise<unknown>, MutableState<unknown>>()

/**
 * The settled state of `promise`, readable synchronously. A middleware handed the same promise on
 * every warm invocation (a cached value's fetch) can use its value without an await once it has
 * fulfilled. The first call starts watching the promise, so it reads 'pending' at least until the
 * microtask after that; later calls return the same record. A rejection is observed here, and is
 * still delivered to whoever awaits the promise.
 */
export function settledState<T>(promise: Promise<T>): SettledState<T> {
  let state = states.get(promise) as MutableState<T> | undefined
  if (state === undefined) {
    const created: MutableState<T> = { status: 'pending', value: undefined }
    state = created
    states.set(promise, created as MutableState<unknown>)
    promise.then(
      (value) => {
        created.status = 'fulfilled'
        created.value = value
      },
      () => {
        created.status = 'rejected'
      },
    )
  }
  return state
}
