import { processWide } from './shared-state.js'

/**
 * Every event warmstart emits, by type. Each package adds its own events to this interface by
 * declaration merging (`declare module '@warmstart/core' { interface WarmstartEventMap { ... } }`),
 * so a listener sees one typed union of all the packages it has installed.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging in each package
export interface WarmstartEventMap {}

export type WarmstartEventType = keyof WarmstartEventMap

/** One emitted event: its `type`, the wall-clock `time` it was emitted at, and its details. */
export type WarmstartEvent = {
  [K in WarmstartEventType]: { readonly type: K; readonly time: number } & WarmstartEventMap[K]
}[WarmstartEventType]

export type WarmstartEventListener = (event: WarmstartEvent) => void

/** Whether any listener is subscribed; see `eventListening`. */
export interface EventListening {
  readonly active: boolean
}

const listeners = processWide('core:listeners', () => new Set<WarmstartEventListener>())
const listening = processWide<{ active: boolean }>('core:listening', () => ({ active: listeners.size > 0 }))

/**
 * Whether anybody listens to events, as one field that every copy of core keeps up to date. Hot
 * paths read it before they build an event or call `emit`: a property read is cheaper than a
 * call, and it keeps the hot function small enough for the JIT to inline.
 * `if (eventListening.active) emit('lru.hit', details)`.
 */
export const eventListening: EventListening = listening

/**
 * Subscribes to every warmstart event in this process; returns the function that unsubscribes.
 * A listener that throws is isolated: the component that emitted carries on.
 */
export function onEvent(listener: WarmstartEventListener): () => void {
  listeners.add(listener)
  listening.active = true
  return () => {
    listeners.delete(listener)
    listening.active = listeners.size > 0
  }
}

/** Emits an event to every listener. Costs one size check when nobody listens. */
export function emit<K extends WarmstartEventType>(type: K, details: WarmstartEventMap[K]): void {
  if (listeners.size === 0) return
  const event = Object.assign({ type, time: Date.now() }, details) as unknown as WarmstartEvent
  for (const listener of listeners) {
    try {
      listener(event)
    } catch {
      // An observer must never break the component it observes.
    }
  }
}
