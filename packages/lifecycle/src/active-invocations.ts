import type { InvocationInfo } from '@warmstart/core'

/**
 * The invocations the lifecycle middleware is inside, by request id. In the classic mode there is
 * one at a time, held in a slot: a request id is a new string every invocation, and hashing it
 * into a Map, then deleting it, was most of what the middleware cost a warm invocation. Under
 * Managed Instances, the invocations that overlap the one in the slot go to a Map.
 */
export class ActiveInvocations {
  private slot: InvocationInfo | undefined
  private readonly overlapping = new Map<string, InvocationInfo>()

  get size(): number {
    return (this.slot === undefined ? 0 : 1) + this.overlapping.size
  }

  get(requestId: string): InvocationInfo | undefined {
    if (this.slot !== undefined && this.slot.requestId === requestId) return this.slot
    return this.overlapping.size === 0 ? undefined : this.overlapping.get(requestId)
  }

  has(requestId: string): boolean {
    return this.get(requestId) !== undefined
  }

  /** Adds an invocation that is not active yet. */
  add(info: InvocationInfo): void {
    if (this.slot === undefined) this.slot = info
    else this.overlapping.set(info.requestId, info)
  }

  delete(requestId: string): void {
    if (this.slot !== undefined && this.slot.requestId === requestId) this.slot = undefined
    else if (this.overlapping.size !== 0) this.overlapping.delete(requestId)
  }

  clear(): void {
    this.slot = undefined
    this.overlapping.clear()
  }
}
