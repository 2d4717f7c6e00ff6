/** A load that runs once and is shared by every caller; see `loadOnce`. */
export interface LoadOnce<T> {
  /** The loaded value: starts the load on the first call, shares it while it runs. */
  (): Promise<T>
  /** The value once loaded, without starting anything. */
  peek(): T | undefined
  /** Forgets the value (or the load in flight), so that the next call loads again. */
  reset(): void
}

/**
 * Runs `load` on first use and shares its result. A failed load is never kept: the callers of that
 * attempt get its error, and the next call tries again (an optional peer installed since, a
 * transient fault), where caching the rejection would fail the environment for good.
 */
export function loadOnce<T>(load: () => Promise<T>): LoadOnce<T> {
  let loading: Promise<T> | undefined
  let loaded = false
  let value: T | undefined
  const get = (() => {
    if (loading !== undefined) return loading
    const attempt = Promise.resolve()
      .then(load)
      .then(
        (result) => {
          if (loading === attempt) {
            loaded = true
            value = result
          }
          return result
        },
        (error: unknown) => {
          if (loading === attempt) loading = undefined
          throw error
        },
      )
    loading = attempt
    return attempt
  }) as LoadOnce<T>
  get.peek = () => (loaded ? value : undefined)
  get.reset = () => {
    loading = undefined
    loaded = false
    value = undefined
  }
  return get
}
