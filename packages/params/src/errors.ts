import { WarmstartError } from '@warmstart/core'

/** One or more SSM parameters do not exist (or the version or label asked for does not). */
export class ParameterNotFoundError extends WarmstartError {
  readonly names: readonly string[]

  constructor(names: readonly string[]) {
    super(
      'ERR_PARAMETER_NOT_FOUND',
      `SSM parameter${names.length === 1 ? '' : 's'} not found: ${names.join(', ')}`,
    )
    this.name = 'ParameterNotFoundError'
    this.names = names
  }
}

/** One or more Secrets Manager secrets (or the version stage asked for) do not exist. */
export class SecretNotFoundError extends WarmstartError {
  readonly ids: readonly string[]

  constructor(ids: readonly string[]) {
    super('ERR_SECRET_NOT_FOUND', `secret${ids.length === 1 ? '' : 's'} not found: ${ids.join(', ')}`)
    this.name = 'SecretNotFoundError'
    this.ids = ids
  }
}

/**
 * A value could not be transformed (`'json'`, `'binary'`). It names the parameter and the
 * transform and carries no cause: the parser's own message can quote a fragment of the value.
 */
export class TransformError extends WarmstartError {
  readonly parameter: string
  readonly transform: string

  constructor(parameter: string, transform: string, reason: string) {
    super(
      'ERR_PARAMETER_TRANSFORM',
      `${parameter}: the value is not valid for transform "${transform}" (${reason})`,
    )
    this.name = 'TransformError'
    this.parameter = parameter
    this.transform = transform
  }
}

/**
 * A fetch failed (throttling, a 5xx, a timeout, the network) and no cached value could stand in.
 * `reason` is the cause's error name or code; the cause is attached.
 */
export class FetchError extends WarmstartError {
  readonly cache: string
  readonly key: string
  readonly reason: string

  constructor(cache: string, key: string, cause: unknown) {
    const reason = errorCode(cause)
    super('ERR_PARAMS_FETCH', `${cache}: fetching "${key}" failed (${reason})`, { cause })
    this.name = 'FetchError'
    this.cache = cache
    this.key = key
    this.reason = reason
  }
}

/**
 * A fetch had no answer within its budget: the invocation's remaining time less the margin, the
 * cache's `fetchTimeout`, or `staleAfter` when a value to fall back on was in hand. The request
 * was aborted (with the SDK's attempts and backoff); nothing of it runs on after the invocation.
 */
export class FetchTimeoutError extends WarmstartError {
  readonly cache: string
  readonly key: string
  /** The budget the fetch was given, in milliseconds. */
  readonly budgetMs: number

  constructor(cache: string, key: string, budgetMs: number) {
    super('ERR_PARAMS_TIMEOUT', `${cache}: fetching "${key}" had no answer within ${budgetMs} ms`)
    this.name = 'FetchTimeoutError'
    this.cache = cache
    this.key = key
    this.budgetMs = budgetMs
  }
}

/** What one key of a middleware spec failed with. */
export interface ResolveFailure {
  /** The key in the middleware's `fetch` spec. */
  readonly key: string
  /** The parameter name or secret id it refers to. */
  readonly name: string
  /** The error's stable code (`ERR_PARAMETER_NOT_FOUND`, `ERR_PARAMS_FETCH`, ...). */
  readonly code: string
  readonly error: unknown
}

/** paramsMiddleware could not resolve some keys of its spec; each one is listed with its code. */
export class ParamsResolveError extends WarmstartError {
  readonly failures: readonly ResolveFailure[]

  constructor(failures: readonly ResolveFailure[]) {
    const list = failures.map((failure) => `${failure.key} (${failure.name}): ${failure.code}`).join('; ')
    super('ERR_PARAMS_RESOLVE', `paramsMiddleware: could not resolve ${failures.length} value(s): ${list}`, {
      cause: failures.length === 1 ? failures[0]?.error : new AggregateError(failures.map((f) => f.error)),
    })
    this.name = 'ParamsResolveError'
    this.failures = failures
  }
}

/** The stable code of any error: warmstart's `code`, an SDK error's `name`, a Node `code`. */
export function errorCode(error: unknown): string {
  if (error instanceof WarmstartError) return error.code
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown }
    if (typeof code === 'string' && code !== '') return code
    if (typeof name === 'string' && name !== '') return name
  }
  return 'Error'
}
