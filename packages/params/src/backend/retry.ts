import { sleep } from '@warmstart/core/internal'
import { AwsServiceError } from './errors.js'

/**
 * The retry policy of the default path, the AWS SDK v3's standard mode: 3 attempts, a throttling
 * answer, a 5xx, a timeout or a transient network error is tried again after
 * `random × min(20 s, base × 2^retry)` with base 500 ms for throttling and 100 ms otherwise. The
 * caller's signal bounds it all: an abort ends the wait and the attempt in flight.
 */
export interface RetryPolicy {
  readonly maxAttempts: number
  readonly random: () => number
}

export const STANDARD_RETRY: RetryPolicy = { maxAttempts: 3, random: Math.random }

const MAX_DELAY = 20_000

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
])

const TRANSIENT_TYPES = new Set(['RequestTimeout', 'RequestTimeoutException', 'InternalFailure'])

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
])

/** 'throttling' or 'transient' when the error is worth another attempt, else undefined. */
export function retryKind(error: unknown): 'throttling' | 'transient' | undefined {
  if (error instanceof AwsServiceError) {
    const status = error.$metadata.httpStatusCode
    if (THROTTLING.has(error.name) || status === 429) return 'throttling'
    return status >= 500 || TRANSIENT_TYPES.has(error.name) ? 'transient' : undefined
  }
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown }
  if (name === 'TimeoutError') return 'transient' // an attempt's own timeout; an aborted signal is never retried
  return typeof code === 'string' && TRANSIENT_CODES.has(code) ? 'transient' : undefined
}

/** Runs `attempt` under the policy; never retries once `signal` has aborted. */
export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt()
    } catch (error) {
      const kind = retryKind(error)
      if (kind === undefined || retry + 1 >= policy.maxAttempts || signal.aborted) throw error
      const base = kind === 'throttling' ? 500 : 100
      await sleep(Math.floor(policy.random() * Math.min(MAX_DELAY, base * 2 ** (retry + 1))), signal)
      if (signal.aborted) throw signal.reason
    }
  }
}
