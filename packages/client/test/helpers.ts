import { onEvent, type WarmstartEvent } from '@warmstart/core'

export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

/** A promise settled from outside, to hold a factory or a validation at a chosen point. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Records every warmstart event whose type starts with `prefix` until `stop()` is called. */
export function recordEvents(prefix: string): { events: WarmstartEvent[]; types(): string[]; stop(): void } {
  const events: WarmstartEvent[] = []
  const stop = onEvent((event) => {
    if (event.type.startsWith(prefix)) events.push(event)
  })
  return { events, types: () => events.map((event) => event.type), stop }
}

/** Lets queued promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}
