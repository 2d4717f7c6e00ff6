/**
 * Values kept per invocation, by request id. In the classic mode one invocation runs at a time, so
 * its value sits in one slot: a request id is a new string every invocation, and hashing it into a
 * Map and deleting it again costs a warm invocation more than the rest of a middleware's work.
 * Under Managed Instances the invocations that overlap the one in the slot go to a Map.
 */
export class InvocationSlots<T> {
  private slotId: string | undefined
  private slotValue: T | undefined
  private readonly overlapping = new Map<string, T>()

  get size(): number {
    return (this.slotId === undefined ? 0 : 1) + this.overlapping.size
  }

  get(id: string): T | undefined {
    if (this.slotId === id) return this.slotValue
    return this.overlapping.size === 0 ? undefined : this.overlapping.get(id)
  }

  has(id: string): boolean {
    return this.slotId === id || (this.overlapping.size !== 0 && this.overlapping.has(id))
  }

  set(id: string, value: T): void {
    if (this.slotId === undefined || this.slotId === id) {
      this.slotId = id
      this.slotValue = value
    } else {
      this.overlapping.set(id, value)
    }
  }

  delete(id: string): boolean {
    if (this.slotId === id) {
      this.slotId = undefined
      this.slotValue = undefined
      return true
    }
    return this.overlapping.size !== 0 && this.overlapping.delete(id)
  }

  clear(): void {
    this.slotId = undefined
    this.slotValue = undefined
    this.overlapping.clear()
  }

  *values(): IterableIterator<T> {
    if (this.slotId !== undefined) yield this.slotValue as T
    yield* this.overlapping.values()
  }
}
