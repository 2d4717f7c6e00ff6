import { onEvent, type WarmstartEvent, type WarmstartEventType } from '@warmstart/core'

/** Records warmstart's pg events, and resolves when one arrives: a readiness signal, not a sleep. */
export interface EventLog {
  readonly events: WarmstartEvent[]
  of<K extends WarmstartEventType>(type: K): Extract<WarmstartEvent, { type: K }>[]
  next(type: WarmstartEventType): Promise<void>
  clear(): void
  stop(): void
}

export function recordEvents(): EventLog {
  const events: WarmstartEvent[] = []
  const waiting: { type: WarmstartEventType; resolve: () => void }[] = []
  const stop = onEvent((event) => {
    if (!event.type.startsWith('pg.')) return
    events.push(event)
    for (const waiter of waiting.filter((w) => w.type === event.type)) {
      waiting.splice(waiting.indexOf(waiter), 1)
      waiter.resolve()
    }
  })
  return {
    events,
    of: <K extends WarmstartEventType>(type: K) =>
      events.filter((event): event is Extract<WarmstartEvent, { type: K }> => event.type === type),
    next: (type) => new Promise((resolve) => waiting.push({ type, resolve })),
    clear: () => {
      events.length = 0
    },
    stop,
  }
}
