export { isConnectionLost } from './classify.js'
export {
  ConnectError,
  type ConnectFailure,
  QueryTimeoutError,
  type QueryTimeoutOutcome,
} from './errors.js'
export type { ReplaceReason } from './events.js'
export type { TransactionStatus } from './live-connection.js'
export { type PgMiddlewareOptions, pgMiddleware } from './middleware.js'
export type { ConfigAttempt, PgConfigSource, PgConnectionOptions, PgRetryOptions } from './options.js'
export { type PgConnection, type PgQueryOptions, pgConnection } from './pg-connection.js'
