export { awsClient } from './aws-client.js'
export {
  type AsyncLazy,
  type AsyncLazyOptions,
  type Lazy,
  LazyTimeoutError,
  lazy,
  type SyncLazy,
  type SyncLazyOptions,
} from './lazy.js'
export {
  type ClientsContext,
  type ClientsMiddlewareOptions,
  clientsMiddleware,
  type ResolvedClients,
} from './middleware.js'
