import { invalidOption } from './errors.js'

/**
 * The members the Node.js runtime puts on Lambda's context (aws-lambda-ric's context builder; the
 * callback API's `done`, `fail`, `succeed` and `callbackWaitsForEmptyEventLoop` on the runtimes that
 * still have it). A middleware that set one of them would replace what the runtime, Middy and every
 * other middleware read, such as the `getRemainingTimeInMillis` each deadline of the invocation
 * comes from.
 */
const CONTEXT_MEMBERS: ReadonlySet<string> = new Set([
  'awsRequestId',
  'callbackWaitsForEmptyEventLoop',
  'clientContext',
  'done',
  'fail',
  'functionName',
  'functionVersion',
  'getRemainingTimeInMillis',
  'identity',
  'invokedFunctionArn',
  'logGroupName',
  'logStreamName',
  'memoryLimitInMB',
  'succeed',
  'tenantId',
  'xRayTraceId',
])

/**
 * Throws `ERR_INVALID_OPTION` (for `option` of `component`) when a middleware cannot put a value on
 * the context under `key`: one of the context's own members, or `__proto__`, which an assignment
 * would make the context's prototype (or drop, for a string) instead of a property.
 */
export function checkContextKey(component: string, option: string, key: string): void {
  if (key === '__proto__') {
    throw invalidOption(component, option, 'cannot be a property of the context: give the value another key')
  }
  if (CONTEXT_MEMBERS.has(key)) {
    throw invalidOption(
      component,
      option,
      `is one of the Lambda context's own members ("${key}"), which the value would replace: give the value another key`,
    )
  }
}
