import { describeValue, invalidOption, parseDuration } from '@warmstart/core'
import type { LocalAwsFault, LocalAwsFaultKind, LocalAwsService } from './types.js'

/** What happens to one request: added latency, then perhaps a failure instead of the answer. */
export interface FaultPlan {
  readonly latencyMs: number
  readonly failure: Exclude<LocalAwsFaultKind, 'latency'> | undefined
  /** For failure 'respond': what to answer. */
  readonly answer:
    | { readonly status: number; readonly body: string; readonly headers: Readonly<Record<string, string>> }
    | undefined
}

interface ActiveFault {
  readonly service: LocalAwsService | undefined
  readonly operation: string | undefined
  readonly kind: LocalAwsFaultKind
  readonly latencyMs: number
  readonly answer: FaultPlan['answer']
  remaining: number
}

const KINDS: readonly string[] = ['throttle', 'server-error', 'latency', 'hang', 'drop', 'respond']
const SERVICES: readonly string[] = ['ssm', 'secretsmanager']

/**
 * The faults a test has injected. Each request takes every matching latency (they add up) and the
 * first matching failure, in the order they were injected; each fault lasts for `times` requests.
 */
export class FaultSchedule {
  #faults: ActiveFault[] = []

  add(fault: LocalAwsFault): void {
    this.#faults.push(validate(fault))
  }

  clear(): void {
    this.#faults = []
  }

  take(service: LocalAwsService, operation: string): FaultPlan {
    let latencyMs = 0
    let failure: FaultPlan['failure']
    let answer: FaultPlan['answer']
    for (const fault of this.#faults) {
      if ((fault.service ?? service) !== service || (fault.operation ?? operation) !== operation) continue
      if (fault.kind === 'latency') {
        latencyMs += fault.latencyMs
      } else if (failure === undefined) {
        failure = fault.kind
        answer = fault.answer
      } else {
        continue
      }
      fault.remaining -= 1
    }
    this.#faults = this.#faults.filter((fault) => fault.remaining > 0)
    return { latencyMs, failure, answer }
  }
}

function validate(fault: LocalAwsFault): ActiveFault {
  const problem = (option: string, text: string) => invalidOption('injectFault', option, text)
  if (typeof fault !== 'object' || fault === null)
    throw problem('fault', `must be an object (got ${describeValue(fault)})`)
  const { service, operation, kind, times = 1, latencyMs, body, status, headers } = fault
  if (!KINDS.includes(kind)) {
    throw problem(
      'kind',
      `must be one of ${KINDS.map((k) => `'${k}'`).join(', ')} (got ${describeValue(kind)})`,
    )
  }
  if (service !== undefined && !SERVICES.includes(service)) {
    throw problem('service', `must be 'ssm' or 'secretsmanager' (got ${describeValue(service)})`)
  }
  if (operation !== undefined && (typeof operation !== 'string' || operation === '')) {
    throw problem(
      'operation',
      `must be an operation name such as 'GetParameter' (got ${describeValue(operation)})`,
    )
  }
  if (times !== Number.POSITIVE_INFINITY && !(Number.isInteger(times) && times >= 1)) {
    throw problem('times', `must be a whole number >= 1 or Infinity (got ${describeValue(times)})`)
  }
  if (kind === 'latency' && latencyMs === undefined)
    throw problem('latencyMs', "is required for kind 'latency'")
  if (kind !== 'latency' && latencyMs !== undefined)
    throw problem('latencyMs', "applies to kind 'latency' only")
  if (kind === 'respond' && typeof body !== 'string')
    throw problem('body', "is required for kind 'respond' (a string)")
  if (kind !== 'respond' && (body !== undefined || status !== undefined || headers !== undefined)) {
    const option = body !== undefined ? 'body' : status !== undefined ? 'status' : 'headers'
    throw problem(option, "applies to kind 'respond' only")
  }
  if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
    throw problem('status', `must be an HTTP status from 200 to 599 (got ${describeValue(status)})`)
  }
  return {
    service,
    operation,
    kind,
    latencyMs: latencyMs === undefined ? 0 : parseDuration(latencyMs, 'injectFault', 'latencyMs'),
    answer:
      kind === 'respond'
        ? { status: status ?? 200, body: body as string, headers: { ...headers } }
        : undefined,
    remaining: times,
  }
}
