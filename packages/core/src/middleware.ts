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

/**
 * A Middy middleware: a plain object with optional `before`, `after` and `onError` phases. Its
 * context defaults to Lambda's full context type: Middy 7's `use()` infers a middleware's context
 * and yields `never` for one that does not extend Lambda's `Context`, which breaks the whole chain.
 */
export interface Middleware<TEvent = unknown, TResult = unknown, TContext = LambdaContext> {
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

/**
 * Lambda's context object as Middy types it (`Context` of `@types/aws-lambda`), declared here
 * structurally: Middy's `use()` only carries a middleware's context type to the handler when that
 * type extends Middy's, and this package must not need `@types/aws-lambda` to be installed.
 */
export interface LambdaContext extends LambdaContextLike {
  callbackWaitsForEmptyEventLoop: boolean
  functionName: string
  functionVersion: string
  invokedFunctionArn: string
  memoryLimitInMB: string
  awsRequestId: string
  logGroupName: string
  logStreamName: string
  getRemainingTimeInMillis(): number
  /** @deprecated Lambda's pre-promise API, declared only so that this type matches Middy's. */
  done(error?: Error, result?: unknown): void
  /** @deprecated Lambda's pre-promise API, declared only so that this type matches Middy's. */
  fail(error: Error | string): void
  /** @deprecated Lambda's pre-promise API, declared only so that this type matches Middy's. */
  succeed(messageOrObject: unknown, object?: unknown): void
}
