/** Runs the tasks given to it one after another, in the order they were given. */
export class Lock {
  #tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task)
    this.#tail = result.catch(() => {})
    return result
  }
}

/** How long a task may wait for its turn, and the error it is withdrawn with past that. */
export interface LockWait {
  /** Milliseconds, finite. */
  readonly ms: number
  readonly onTimeout: () => Error
}

/** Runs the tasks given for one key one after another, so writes and deletes of a key never interleave. */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>()

  /**
   * Runs `task` once every task given before it for `key` has settled. With `wait`, a task whose
   * turn has not come within `wait.ms` is withdrawn: the call rejects with `wait.onTimeout()` and
   * the task never runs, while the tasks given after it still wait for those before it.
   */
  run<T>(key: string, task: () => Promise<T>, wait?: LockWait): Promise<T> {
    const previous = this.#tails.get(key)
    let timer: ReturnType<typeof setTimeout> | undefined
    let withdrawn = false
    const turn = (previous ?? Promise.resolve()).then(() => {
      clearTimeout(timer)
      return withdrawn ? undefined : task()
    })
    const tail = turn.catch(() => {})
    this.#tails.set(key, tail)
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    })
    // The task's own result, once it runs: `turn` holds undefined only for a withdrawn task.
    const result = turn as Promise<T>
    if (previous === undefined || wait === undefined) return result
    return new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => {
        withdrawn = true
        reject(wait.onTimeout())
      }, wait.ms)
      result.then(resolve, reject)
    })
  }
}
