import { currentRequestId } from '@warmstart/core'
import { type InvocationInfo, InvocationSlots, invocationCount, processWide } from '@warmstart/core/internal'

/**
 * How this environment's first invocation began. `cold`: the caller waited for init.
 * `provisioned`: init ran ahead of time (provisioned concurrency), so the caller did not pay for
 * it. `snap-start-restore`: the environment was restored from a SnapStart snapshot; init ran when
 * the version was published. Every later invocation is `warm`.
 */
export type StartKind = 'cold' | 'warm' | 'provisioned' | 'snap-start-restore'

/** The first invocation, as the lifecycle middleware saw it. */
export interface FirstInvocation {
  readonly requestId: string
  readonly startedAt: number
}

interface EnvironmentState {
  first: FirstInvocation | undefined
  /** Invocations the lifecycle middleware is inside, by request id (several at once under Managed Instances). */
  readonly active: InvocationSlots<InvocationInfo>
}

export const environment = /* @__PURE__ */ processWide<EnvironmentState>('lifecycle:environment', () => ({
  first: undefined,
  active: new InvocationSlots<InvocationInfo>(),
}))

/**
 * Wall-clock time the process started (`performance.timeOrigin`): Node's bootstrap, the runtime
 * client and the handler's module load all come after it, so "init" here covers what Lambda's
 * own Init Duration covers, and does not depend on when this package happened to be imported.
 */
export function processStartedAt(): number {
  // Read when asked, not at import: the first touch of `performance` loads perf_hooks (about 1 ms).
  return Math.round(performance.timeOrigin)
}

/** `AWS_LAMBDA_INITIALIZATION_TYPE`, read when asked (tests and SnapStart restores may change it). */
export function initializationType(): string {
  return process.env.AWS_LAMBDA_INITIALIZATION_TYPE || 'on-demand'
}

/** How the first invocation of this environment began, from the initialization type. */
export function firstStartKind(initType: string = initializationType()): Exclude<StartKind, 'warm'> {
  if (initType === 'provisioned-concurrency') return 'provisioned'
  if (initType === 'snap-start') return 'snap-start-restore'
  return 'cold'
}

/**
 * True during this environment's first invocation. The answer comes from core's
 * `trackInvocation`, which every warmstart middleware calls. Inside `lifecycleMiddleware` it is
 * exact per request, even with many invocations in flight (Managed Instances). Otherwise it is
 * "no more than one invocation seen so far": true during init, and true for ever when no warmstart
 * middleware runs at all, the safe side, since every path must be correct when every
 * invocation is cold.
 */
export function isColdStart(): boolean {
  const requestId = currentRequestId()
  const info = requestId === undefined ? undefined : environment.active.get(requestId)
  if (info !== undefined) return info.coldStart
  return invocationCount() <= 1
}

/** `isColdStart()` with the kind of start: see `StartKind`. */
export function startKind(): StartKind {
  return isColdStart() ? firstStartKind() : 'warm'
}

/**
 * Milliseconds from process start to the first invocation, once `lifecycleMiddleware` has seen
 * it (undefined before). With provisioned concurrency or SnapStart this includes the time the
 * environment waited for its first request, which no caller paid for: see `startKind()`.
 */
export function initDuration(): number | undefined {
  const first = environment.first
  return first === undefined ? undefined : Math.max(0, first.startedAt - processStartedAt())
}

/** Milliseconds since the process started. */
export function environmentAge(): number {
  return Date.now() - processStartedAt()
}
