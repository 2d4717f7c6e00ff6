import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel'

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

/**
 * The `node:diagnostics_channel` channel that carries every warmstart event. Each event is also
 * published on its own channel, `warmstart:<type>` (`warmstart:cache.hit`), for subscribers that
 * want one kind only. Channels are process-wide by name, so every copy of warmstart in a process
 * (an ESM and a CommonJS one, two bundles) publishes to the same subscribers.
 */
export const ALL_EVENTS_CHANNEL = 'warmstart:event'

/** The name of the `node:diagnostics_channel` channel of one event type: `warmstart:<type>`. */
export function eventChannelName(type: WarmstartEventType): string {
  return `warmstart:${type}`
}

const all = channel(ALL_EVENTS_CHANNEL)

/** One event type's channel, as the code that emits it holds it. */
export interface EventChannel<K extends WarmstartEventType> {
  /** Whether anyone subscribes to this event (its own channel or the channel of all events). */
  readonly active: boolean
  /** Publishes one event with these details; does nothing, and allocates nothing, when nobody subscribes. */
  publish(details: WarmstartEventMap[K]): void
}

class TypedChannel<K extends WarmstartEventType> implements EventChannel<K> {
  private readonly own

  constructor(private readonly type: K) {
    this.own = channel(eventChannelName(type))
  }

  get active(): boolean {
    return this.own.hasSubscribers || all.hasSubscribers
  }

  publish(details: WarmstartEventMap[K]): void {
    const own = this.own.hasSubscribers
    if (!own && !all.hasSubscribers) return
    const event = Object.assign({ type: this.type, time: Date.now() }, details)
    if (own) this.own.publish(event)
    if (all.hasSubscribers) all.publish(event)
  }
}

// Held here so that V8 does not collect a channel between publications (diagnostics_channel keeps
// only channels that have subscribers).
const channels = new Map<WarmstartEventType, EventChannel<WarmstartEventType>>()

/** The channel of one event type. Hot paths hold it and test `active` before building details. */
export function eventChannel<K extends WarmstartEventType>(type: K): EventChannel<K> {
  let typed = channels.get(type) as EventChannel<K> | undefined
  if (typed === undefined) {
    typed = new TypedChannel(type)
    channels.set(type, typed as unknown as EventChannel<WarmstartEventType>)
  }
  return typed
}

/** Publishes an event. Costs a map lookup and two subscriber checks when nobody listens. */
export function emit<K extends WarmstartEventType>(type: K, details: WarmstartEventMap[K]): void {
  eventChannel(type).publish(details)
}

/**
 * Subscribes to every warmstart event in this process; returns the function that unsubscribes. A
 * thin convenience over the `warmstart:event` channel. A listener that throws is isolated: the
 * component that emitted carries on, and nothing reaches `uncaughtException` (a subscriber that
 * throws on a diagnostics channel directly is rethrown by Node on the next tick).
 */
export function onEvent(listener: WarmstartEventListener): () => void {
  const subscriber = (message: unknown): void => {
    try {
      listener(message as WarmstartEvent)
    } catch {
      // An observer must never break the component it observes.
    }
  }
  subscribe(ALL_EVENTS_CHANNEL, subscriber)
  return () => {
    unsubscribe(ALL_EVENTS_CHANNEL, subscriber)
  }
}

/** Whether any listener is subscribed; see `eventListening`. */
export interface EventListening {
  readonly active: boolean
}

/**
 * Whether anybody listens to any warmstart event.
 * @deprecated Hold the event's own `eventChannel(type)` and test its `active`: it reads one
 * channel instead of every channel this copy of core knows.
 */
export const eventListening: EventListening = {
  get active(): boolean {
    if (all.hasSubscribers) return true
    for (const typed of channels.values()) if (typed.active) return true
    return false
  },
}
