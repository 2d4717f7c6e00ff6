/**
 * The request a Middy middleware receives, reduced to what warmstart reads. Declared here so that
 * no package imports `@middy/core` at run time; Middy's own request type is assignable to it.
 */
export interface MiddlewareRequest<TEvent = unknown, TResult = unknown, TContext = LambdaContextLike> {
  event: TEvent
  context: TContext
  response: TResult | null | undefined
  error: unknown
}

/** A Middy middleware: a plain object with optional `before`, `after` and `onError` phases. */
export interface Middleware<TEvent = unknown, TResult = unknown, TContext = LambdaContextLike> {
  before?: (request: MiddlewareRequest<TEvent, TResult, TContext>) => Promise<void> | void
  after?: (request: MiddlewareRequest<TEvent, TResult, TContext>) => Promise<void> | void
  onError?: (request: MiddlewareRequest<TEvent, TResult, TContext>) => Promise<void> | void
}

/** The parts of Lambda's context object that warmstart reads. */
export interface LambdaContextLike {
  awsRequestId?: string
  functionName?: string
  getRemainingTimeInMillis?: () => number
}
