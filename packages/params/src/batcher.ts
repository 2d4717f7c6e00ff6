interface Waiter<R> {
  resolve(value: R): void
  reject(error: unknown): void
  readonly signal: AbortSignal
}

/** What one batch request gives back for every key it was sent: a value or that key's error. */
export type BatchResults<R> = Map<string, R | Error>

/**
 * Collects the keys asked for in one tick (a `Promise.all`, a middleware resolving its spec) and
 * sends them together once the tick's synchronous code is done, in batches of at most `max`
 * distinct keys. A batch request that fails rejects every key in it. Each load brings the signal
 * of its fetch's budget; a batch request is aborted once every load waiting on it has been
 * aborted (until then somebody still wants its answer).
 */
export class MicrotaskBatcher<R> {
  readonly #max: number
  /** An async function that returns a result for every key it is given. */
  readonly #send: (keys: string[], signal: AbortSignal) => Promise<BatchResults<R>>
  #queue = new Map<string, Waiter<R>[]>()

  constructor(max: number, send: (keys: string[], signal: AbortSignal) => Promise<BatchResults<R>>) {
    this.#max = max
    this.#send = send
  }

  load(key: string, signal: AbortSignal): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const waiters = this.#queue.get(key)
      if (waiters !== undefined) {
        waiters.push({ resolve, reject, signal })
        return
      }
      if (this.#queue.size === 0) queueMicrotask(() => this.#flush())
      this.#queue.set(key, [{ resolve, reject, signal }])
    })
  }

  #flush(): void {
    const queue = this.#queue
    this.#queue = new Map()
    const keys = [...queue.keys()]
    for (let start = 0; start < keys.length; start += this.#max) {
      const batch = keys.slice(start, start + this.#max)
      this.#sendBatch(batch, queue)
    }
  }

  #sendBatch(batch: string[], queue: Map<string, Waiter<R>[]>): void {
    const controller = new AbortController()
    const signals = batch.flatMap((key) => (queue.get(key) as Waiter<R>[]).map((waiter) => waiter.signal))
    let waiting = signals.length
    const onAbort = () => {
      waiting--
      if (waiting === 0) controller.abort()
    }
    for (const signal of signals) {
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    }
    const done = () => {
      for (const signal of signals) signal.removeEventListener('abort', onAbort)
    }
    this.#send(batch, controller.signal).then(
      (results) => {
        done()
        for (const key of batch) {
          const result = results.get(key) as R | Error
          for (const waiter of queue.get(key) as Waiter<R>[]) {
            if (result instanceof Error) waiter.reject(result)
            else waiter.resolve(result)
          }
        }
      },
      (error: unknown) => {
        done()
        for (const key of batch) for (const waiter of queue.get(key) as Waiter<R>[]) waiter.reject(error)
      },
    )
  }
}
