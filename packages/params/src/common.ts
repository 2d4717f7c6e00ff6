/** What every entry exports: the cache, the middleware, the errors and the types both providers share. */
export {
  AwsServiceError,
  MalformedResponseError,
  type SecretsManagerSdkClient,
  type SsmSdkClient,
} from './backend/index.js'
export {
  FetchError,
  FetchTimeoutError,
  ParameterNotFoundError,
  ParamsResolveError,
  type ResolveFailure,
  SecretNotFoundError,
  TransformError,
} from './errors.js'
export {
  type ParamsContext,
  type ParamsMiddlewareOptions,
  type ParamsOf,
  type ParamsSpec,
  paramsMiddleware,
} from './middleware.js'
export type { ProviderCacheOptions } from './provider-cache.js'
export type { ParamRef, RefValue } from './ref.js'
export type { Transform } from './transform.js'
export type { Ttl } from './ttl.js'
export {
  type Loader,
  type TtlCache,
  type TtlCacheBackoff,
  type TtlCacheGetOptions,
  type TtlCacheOptions,
  type TtlCacheStats,
  ttlCache,
} from './ttl-cache.js'
export type { DeepReadonly } from './types.js'
