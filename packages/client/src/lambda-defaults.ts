/** SDK attempts per call: the SDK's standard mode, stated so that a bounded count is guaranteed. */
export const DEFAULT_MAX_ATTEMPTS = 3

/**
 * Connect and per-request timeouts for the SDK's Node HTTP handler (which accepts its options as
 * a plain object). Without them a request to an unreachable endpoint waits until the function's
 * own timeout kills the invocation; with them the SDK fails (and retries) well before. Recent
 * handlers only log an exceeded `requestTimeout` unless `throwOnRequestTimeout` is set.
 */
export const DEFAULT_REQUEST_HANDLER = {
  connectionTimeout: 1_000,
  requestTimeout: 3_000,
  throwOnRequestTimeout: true,
} as const

/** Handler options as plain data, as opposed to a handler (anything with a `handle` method). */
function isHandlerOptions(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const prototype = Object.getPrototypeOf(value)
  const plain = prototype === Object.prototype || prototype === null
  return plain && typeof (value as { handle?: unknown }).handle !== 'function'
}

/**
 * The config with Lambda defaults where the caller gave none: the region of the function
 * (`AWS_REGION`), a bounded retry count and request timeouts. A `requestHandler` given as plain
 * options is completed with the default timeouts; a handler instance is used as it is.
 */
export function withLambdaDefaults(config: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { maxAttempts: DEFAULT_MAX_ATTEMPTS }
  const region = process.env.AWS_REGION
  if (region) merged.region = region
  for (const [name, value] of Object.entries(config)) {
    if (value !== undefined) merged[name] = value
  }
  const handler = merged.requestHandler
  if (handler === undefined) merged.requestHandler = { ...DEFAULT_REQUEST_HANDLER }
  else if (isHandlerOptions(handler)) merged.requestHandler = { ...DEFAULT_REQUEST_HANDLER, ...handler }
  return merged
}
