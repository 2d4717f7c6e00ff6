import { checkOptions, invalidOption } from '@warmstart/core/internal'
import {
  MalformedResponseError,
  type SecretsBackend,
  type SecretsManagerSdkClient,
  secretsBackend,
  type WireSecret,
} from './backend/index.js'
import { type BatchResults, MicrotaskBatcher } from './batcher.js'
import { errorCode, SecretNotFoundError } from './errors.js'
import { PROVIDER_OPTIONS, type ProviderCacheOptions, providerCache } from './provider-cache.js'
import { ProviderReads } from './provider-reads.js'
import { readMany } from './read-many.js'
import { objectsOf } from './records.js'
import type { ParamRef } from './ref.js'
import { isTransform, type Transform } from './transform.js'
import type { Ttl } from './ttl.js'
import type { Loader, TtlCache, TtlCacheStats } from './ttl-cache.js'
import type { DeepReadonly } from './types.js'
import type { RawValue } from './views.js'

const COMPONENT = 'secretsManager'
/** BatchGetSecretValue takes at most 20 ids. */
const MAX_IDS = 20

export interface SecretsManagerOptions extends ProviderCacheOptions {
  /**
   * An SDK client, passed through `fromSecretsManagerClient()` of
   * `'@warmstart/params/secrets-manager-sdk'`: requests go through it (its credentials, retries,
   * middleware). Default: none, and requests are AWS JSON 1.1 signed with SigV4 over Node's own
   * HTTP, without loading the SDK.
   */
  client?: SecretsManagerSdkClient
  /**
   * The default transport's endpoint. Default: AWS_ENDPOINT_URL_SECRETS_MANAGER, else
   * AWS_ENDPOINT_URL, else `https://secretsmanager.<region>.amazonaws.com`.
   */
  endpoint?: string
  /** The default transport's region. Default AWS_REGION (set by the Lambda runtime), else AWS_DEFAULT_REGION. */
  region?: string
  /**
   * Read secrets asked for in the same tick with one BatchGetSecretValue (needs the
   * `secretsmanager:BatchGetSecretValue` permission; without it, the provider falls back to
   * GetSecretValue by itself). Default true.
   */
  batch?: boolean
}

export interface SecretGetOptions {
  /** `'json'` parses (the result is frozen), `'binary'` gives bytes (base64 decoded for a string secret). */
  transform?: Transform
  /** A version stage such as `'AWSPREVIOUS'` or a custom label. Default the current version. */
  versionStage?: string
  /** This value's TTL, instead of the provider's. */
  ttl?: Ttl
}

/** Reads a secret: a SecretString as a string, a SecretBinary as bytes (`get<Uint8Array>(id)`). */
export interface SecretGet {
  <T = unknown>(id: string, options: SecretGetOptions & { transform: 'json' }): Promise<DeepReadonly<T>>
  (id: string, options: SecretGetOptions & { transform: 'binary' }): Promise<Uint8Array>
  <T extends string | Uint8Array = string>(
    id: string,
    options?: SecretGetOptions & { transform?: undefined },
  ): Promise<T>
}

/** Describes a secret for `paramsMiddleware`, typed like `get`. */
export interface SecretRef {
  <T = unknown>(id: string, options: SecretGetOptions & { transform: 'json' }): ParamRef<DeepReadonly<T>>
  (id: string, options: SecretGetOptions & { transform: 'binary' }): ParamRef<Uint8Array>
  <T extends string | Uint8Array = string>(
    id: string,
    options?: SecretGetOptions & { transform?: undefined },
  ): ParamRef<T>
}

export interface SecretsManager {
  readonly get: SecretGet
  readonly ref: SecretRef
  /** Several secrets at once (BatchGetSecretValue, 20 per call). Missing ids are one `SecretNotFoundError`. */
  getMany<T = string | Uint8Array>(
    ids: readonly string[],
    options?: SecretGetOptions,
  ): Promise<Record<string, T>>
  /**
   * Fetches a secret now, whatever its age, and returns the new value (the view `options` ask
   * for): for a consumer that has learnt the cached value is wrong (a password rejected after a
   * rotation). Every cached read of the id is fetched again: each version stage asked for, and
   * every transform of it (views of one fetch). With `versionStage`, only that stage.
   */
  refresh<T = string | Uint8Array>(id: string, options?: SecretGetOptions): Promise<T>
  /** Forgets a cached secret: every stage and view of it (with `versionStage`, that stage only). */
  invalidate(id: string, options?: Pick<SecretGetOptions, 'versionStage'>): boolean
  settle(): Promise<void>
  stats(): TtlCacheStats
}

interface ReadSpec {
  readonly id: string
  readonly transform: Transform | undefined
  readonly versionStage: string | undefined
}

type RawSecret = Extract<RawValue, string | Uint8Array>

/** AWS Secrets Manager, cached per environment. See {@link SecretsManagerOptions}. */
export function secretsManager(options: SecretsManagerOptions = {}): SecretsManager {
  return new SecretsProvider(options)
}

const GET_OPTIONS = ['transform', 'versionStage', 'ttl'] as const

const SECRET_NOT_FOUND = {
  missingOf: (error: unknown) => (error instanceof SecretNotFoundError ? error.ids : undefined),
  error: (missing: string[]) => new SecretNotFoundError(missing),
}

class SecretsProvider implements SecretsManager {
  readonly #cache: TtlCache<RawSecret>
  readonly #reads: ProviderReads<ReadSpec, RawSecret, SecretGetOptions>
  readonly #backend: SecretsBackend
  #batch: boolean
  readonly #batcher: MicrotaskBatcher<RawSecret>
  /** The version stages read of each id, so that refresh(id) and invalidate(id) reach them all. */
  readonly #stages = new Map<string, Set<string>>()
  readonly get: SecretGet
  readonly ref: SecretRef

  constructor(options: SecretsManagerOptions) {
    checkOptions(COMPONENT, options, [...PROVIDER_OPTIONS, 'client', 'batch', 'endpoint', 'region'])
    if (options.batch !== undefined && typeof options.batch !== 'boolean') {
      throw invalidOption(COMPONENT, 'batch', 'must be a boolean')
    }
    this.#backend = secretsBackend(COMPONENT, options)
    this.#batch = options.batch ?? true
    this.#cache = providerCache<RawSecret>('secrets', options, COMPONENT)
    this.#batcher = new MicrotaskBatcher(MAX_IDS, (ids, signal) => this.#fetchCurrent(ids, signal))
    const reads = new ProviderReads<ReadSpec, RawSecret, SecretGetOptions>({
      component: COMPONENT,
      source: 'secretsmanager',
      getOptions: GET_OPTIONS,
      cache: this.#cache,
      spec: (id, options) => this.#spec(id, options),
      key: cacheKey,
      loader: (spec) => this.#loader(spec),
      // A refresh of the current version fetches every stage read of the id again too.
      siblings: (id, spec) => (spec.versionStage === undefined ? this.#keysOf(id) : []),
    })
    this.#reads = reads
    this.get = ((id: string, getOptions?: SecretGetOptions) => reads.read(id, getOptions)) as SecretGet
    this.ref = ((id: string, refOptions?: SecretGetOptions) => reads.ref(id, refOptions)) as SecretRef
  }

  async getMany<T>(ids: readonly string[], options?: SecretGetOptions): Promise<Record<string, T>> {
    if (!Array.isArray(ids)) throw invalidOption(COMPONENT, 'ids', 'must be an array of secret ids')
    return readMany<T>(ids, (id) => this.#reads.read(id, options), SECRET_NOT_FOUND)
  }

  async refresh<T>(id: string, options?: SecretGetOptions): Promise<T> {
    return (await this.#reads.refresh(id, options)) as T
  }

  invalidate(id: string, options?: Pick<SecretGetOptions, 'versionStage'>): boolean {
    checkOptions(`${COMPONENT}.invalidate`, options, ['versionStage'])
    const spec = this.#spec(id, options)
    if (spec.versionStage !== undefined) return this.#cache.invalidate(cacheKey(spec))
    let found = false
    for (const key of this.#keysOf(id)) if (this.#cache.invalidate(key)) found = true
    return found
  }

  settle(): Promise<void> {
    return this.#reads.settle()
  }

  stats(): TtlCacheStats {
    return this.#reads.stats()
  }

  /** The cache keys of every stage of `id` that was read. */
  #keysOf(id: string): string[] {
    const keys = [id]
    for (const stage of this.#stages.get(id) ?? [])
      keys.push(cacheKey({ id, transform: undefined, versionStage: stage }))
    return keys
  }

  #spec(id: string, options: SecretGetOptions | undefined): ReadSpec {
    if (typeof id !== 'string' || id === '')
      throw invalidOption(COMPONENT, 'id', 'must be a non-empty string')
    // No secret name or ARN holds '#', and the cache key of a version stage does (cacheKey): an id
    // that held it could be served another secret's stage from the cache.
    if (id.includes('#'))
      throw invalidOption(COMPONENT, 'id', "must not contain '#' (no secret name or ARN does)")
    const transform = options?.transform
    if (!isTransform(transform)) throw invalidOption(COMPONENT, 'transform', "must be 'json' or 'binary'")
    const versionStage = options?.versionStage
    if (versionStage !== undefined) {
      if (typeof versionStage !== 'string' || versionStage === '')
        throw invalidOption(COMPONENT, 'versionStage', 'must be a non-empty string')
      const stages = this.#stages.get(id)
      if (stages === undefined) this.#stages.set(id, new Set([versionStage]))
      else stages.add(versionStage)
    }
    return { id, transform, versionStage }
  }

  readonly #loadCurrent: Loader<RawSecret> = (id, signal) => this.#batcher.load(id, signal)

  /** The raw secret; a transform is a view of it (see Views). */
  #loader(spec: ReadSpec): Loader<RawSecret> {
    const { id, versionStage } = spec
    if (versionStage === undefined) return this.#loadCurrent
    return (_, signal) => this.#getOne(id, versionStage, signal)
  }

  async #getOne(id: string, versionStage: string | undefined, signal: AbortSignal): Promise<RawSecret> {
    let output: WireSecret
    try {
      output = await this.#backend.getSecretValue(
        versionStage === undefined ? { SecretId: id } : { SecretId: id, VersionStage: versionStage },
        { signal },
      )
    } catch (error) {
      throw errorCode(error) === 'ResourceNotFoundException' ? new SecretNotFoundError([id]) : error
    }
    return secretValue(output, 'GetSecretValue')
  }

  async #fetchCurrent(ids: string[], signal: AbortSignal): Promise<BatchResults<RawSecret>> {
    if (ids.length > 1 && this.#batch) {
      try {
        return await this.#batchGet(ids, signal)
      } catch (error) {
        // A role allowed GetSecretValue but not BatchGetSecretValue: read one by one from now on.
        if (errorCode(error) !== 'AccessDeniedException') throw error
        this.#batch = false
      }
    }
    const results: BatchResults<RawSecret> = new Map()
    const outcomes = await Promise.allSettled(ids.map((id) => this.#getOne(id, undefined, signal)))
    for (const [index, outcome] of outcomes.entries()) {
      const id = ids[index] as string
      if (outcome.status === 'fulfilled') results.set(id, outcome.value)
      else if (outcome.reason instanceof SecretNotFoundError) results.set(id, outcome.reason)
      else throw outcome.reason
    }
    return results
  }

  async #batchGet(ids: string[], signal: AbortSignal): Promise<BatchResults<RawSecret>> {
    const output = await this.#backend.batchGetSecretValue({ SecretIdList: ids }, { signal })
    const found = new Map<string, RawSecret | Error>()
    for (const secret of objectsOf(output.SecretValues)) {
      // A malformed entry fails its own id only.
      let value: RawSecret | Error
      try {
        value = secretValue(secret, 'BatchGetSecretValue')
      } catch (error) {
        value = error as MalformedResponseError
      }
      for (const alias of [secret.Name, secret.ARN]) if (alias !== undefined) found.set(alias, value)
    }
    for (const failure of objectsOf(output.Errors)) {
      const id = failure.SecretId as string
      const code = failure.ErrorCode ?? 'Error'
      found.set(
        id,
        code === 'ResourceNotFoundException'
          ? new SecretNotFoundError([id])
          : Object.assign(new Error(`BatchGetSecretValue failed for this secret (${code})`), { name: code }),
      )
    }
    // An id the answer neither returns nor reports in Errors is a malformed answer, not a missing
    // secret (an empty body parses as an empty output on the SDK path).
    const results: BatchResults<RawSecret> = new Map()
    for (const id of ids) {
      results.set(
        id,
        found.get(id) ??
          new MalformedResponseError('BatchGetSecretValue', 'an id neither in SecretValues nor in Errors'),
      )
    }
    return results
  }
}

/** The secret's value; one with neither SecretString nor SecretBinary is malformed, never `''`. */
function secretValue(output: WireSecret, operation: string): RawSecret {
  const value = output.SecretString ?? output.SecretBinary
  if (typeof value === 'string' || value instanceof Uint8Array) return value
  throw new MalformedResponseError(operation, 'neither SecretString nor SecretBinary')
}

/** The cache key of one remote value: an id, at its current version or at a version stage. */
function cacheKey(spec: ReadSpec): string {
  if (spec.versionStage === undefined) return spec.id
  // '#' cannot appear in a secret name, so these keys never collide with a plain id.
  return `${spec.id}#${spec.versionStage}`
}

// '@warmstart/params/secrets-manager' is this module: Secrets Manager and everything shared, so that
// a bundle of a function that reads only secrets carries no SSM provider.
export * from './common.js'
