import type { Logger, WarmstartEventMap } from '@warmstart/core'
import { emit, logSafely } from '@warmstart/core/internal'

/** Why a connection was replaced. */
export type ReplaceReason = 'dead' | 'validate-failed' | 'max-lifetime'

declare module '@warmstart/core' {
  interface WarmstartEventMap {
    /** A new connection is open; `attempts` > 1 when it took retries. */
    'pg.connect': { name: string; attempts: number; durationMs: number }
    /** An invocation took a warm connection without any round trip. */
    'pg.reuse': { name: string; idleMs: number }
    /** A connection idle past validateAfterIdle was checked with one round trip. */
    'pg.validate': { name: string; idleMs: number; ok: boolean; durationMs: number }
    /** A connection is being replaced. */
    'pg.reconnect': { name: string; reason: ReplaceReason }
    /** The login was refused (28P01/28000): the config provider is asked for fresh credentials. */
    'pg.rotate': { name: string; code: string }
    /** An invocation left its connection in a transaction; it was rolled back. */
    'pg.rollback': { name: string; status: 'T' | 'E'; ok: boolean }
    /** resetSession: DISCARD ALL ran after an invocation. */
    'pg.reset': { name: string; ok: boolean }
    /** A statement ran past the deadline and was cancelled on the server: `cancelled` (idle again) or `discarded` (closed). */
    'pg.cancel': { name: string; outcome: 'cancelled' | 'discarded' }
    /** An idle connection beyond the one kept was closed (Managed Instances: the pool shrinks back). */
    'pg.close-idle': { name: string; idleMs: number; open: number }
    /** A connection was found dead: `reason` is the SQLSTATE, errno or message that said so. */
    'pg.dead': { name: string; reason: string }
  }
}

type PgEventType = Extract<keyof WarmstartEventMap, `pg.${string}`>

// What a logger hears: the unusual events only; the routine ones are for metrics listeners.
const WARN: ReadonlySet<PgEventType> = new Set(['pg.dead', 'pg.rotate', 'pg.rollback', 'pg.cancel'])

/** Emits a pg event and tells the logger about the ones someone should read. */
export function report<K extends PgEventType>(
  logger: Logger | undefined,
  type: K,
  details: WarmstartEventMap[K],
): void {
  emit(type, details)
  if (logger === undefined) return
  // Reports come from socket events and timers too: a logger that throws must not crash the process
  // there, nor fail a connect that succeeded.
  if (WARN.has(type)) logSafely(logger, 'warn', type, { ...details })
  else logSafely(logger, 'debug', type, { ...details })
}
