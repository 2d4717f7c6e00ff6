import type { GetSecretValueCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { awsClient } from '@warmstart/client'
import { checkOptions, invalidOption } from '@warmstart/core/internal'
import { type BatchResults, MicrotaskBatcher } from './batcher.js'
import { errorCode, SecretNotFoundError } from './errors.js'
import { missingPeer, peerLoader } from './peer.js'
import { PROVIDER_OPTIONS, type ProviderCacheOptions, providerCache } from './provider-cache.js'
import type { ParamRef } from './ref.js'
import { isTransform, type Transform } from './transform.js'
import type { Ttl } from './ttl.js'
import type { Loader, TtlCache, TtlCacheGetOptions, TtlCacheStats } from './ttl-cache.js'
import type { DeepReadonly } from './types.js'
import { type RawValue, Views } from './views.js'

const COMPONENT = 'secretsManager'
/** BatchGetSecretValue takes at most 20 ids. */
const MAX_IDS = 20

// Loaded on first use: a function that never reads this service never loads its SDK. The import
// sits in try/catch so that a bundle made without this optional peer still builds (esbuild leaves
// it for run time), and a missing peer is a typed error.
const loadSdk = peerLoader(async () => {
  try {
    return await import('@aws-sdk/client-secrets-manager')
  } catch (error) {
    /* v8 ignore next -- runs only where the peer is not installed (checked by hand: see the README) */
    throw missingPeer('@aws-sdk/client-secrets-manager', COMPONENT, error)
  }
})

export interface SecretsManagerOptions extends ProviderCacheOptions {
  /** The SDK client. Default: the environment's shared `awsClient(SecretsManagerClient)`, made on first use. */
  client?: SecretsManagerClient
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

class SecretsProvider implements SecretsManager {
  readonly #cache: TtlCache<RawSecret>
  readonly #views = new Views()
  readonly #client: SecretsManagerClient | undefined
  #batch: boolean
  readonly #batcher: MicrotaskBatcher<RawSecret>
  /** The version stages read of each id, so that refresh(id) and invalidate(id) reach them all. */
  readonly #stages = new Map<string, Set<string>>()
  readonly get: SecretGet
  readonly ref: SecretRef

  constructor(options: SecretsManagerOptions) {
    checkOptions(COMPONENT, options, [...PROVIDER_OPTIONS, 'client', 'batch'])
    if (options.client !== undefined && typeof (options.client as { send?: unknown }).send !== 'function') {
      throw invalidOption(
        COMPONENT,
        'client',
        'must be a SecretsManagerClient from @aws-sdk/client-secrets-manager',
      )
    }
    if (options.batch !== undefined && typeof options.batch !== 'boolean') {
      throw invalidOption(COMPONENT, 'batch', 'must be a boolean')
    }
    this.#client = options.client
    this.#batch = options.batch ?? true
    this.#cache = providerCache<RawSecret>('secrets', options, COMPONENT)
    this.#batcher = new MicrotaskBatcher(MAX_IDS, (ids, signal) => this.#fetchCurrent(ids, signal))
    this.get = ((id: string, getOptions?: SecretGetOptions) => this.#read(id, getOptions)) as SecretGet
    this.ref = ((id: string, refOptions?: SecretGetOptions) => {
      // Built once per ref: each resolve is a cache read with no spec, key or loader to make.
      checkOptions(`${COMPONENT}.ref`, refOptions, GET_OPTIONS)
      const spec = this.#spec(id, refOptions)
      const key = cacheKey(spec)
      const load = this.#loader(spec)
      const ttl = refOptions?.ttl === undefined ? undefined : { ttl: refOptions.ttl }
      const view = spec.transform === undefined ? undefined : this.#views.reader(id, spec.transform)
      return {
        source: 'secretsmanager',
        name: id,
        resolve:
          view === undefined
            ? () => this.#cache.get(key, load, ttl)
            : () => view(this.#cache.get(key, load, ttl)),
        settle: this.#settle,
      }
    }) as SecretRef
  }

  async getMany<T>(ids: readonly string[], options?: SecretGetOptions): Promise<Record<string, T>> {
    if (!Array.isArray(ids)) throw invalidOption(COMPONENT, 'ids', 'must be an array of secret ids')
    const outcomes = await Promise.allSettled(ids.map((id) => this.#read(id, options)))
    const values: Record<string, T> = {}
    const missing: string[] = []
    for (const [index, outcome] of outcomes.entries()) {
      const id = ids[index] as string
      if (outcome.status === 'fulfilled') values[id] = outcome.value as T
      else if (outcome.reason instanceof SecretNotFoundError) missing.push(...outcome.reason.ids)
      else throw outcome.reason
    }
    if (missing.length > 0) throw new SecretNotFoundError(missing)
    return values
  }

  async refresh<T>(id: string, options?: SecretGetOptions): Promise<T> {
    checkOptions(`${COMPONENT}.refresh`, options, GET_OPTIONS)
    const spec = this.#spec(id, options)
    const target = cacheKey(spec)
    if (spec.versionStage === undefined) {
      // Every stage read of this id is fetched again too; their failures reach their own next reads.
      for (const key of this.#keysOf(id)) {
        if (key !== target && this.#cache.has(key)) this.#cache.refresh(key).catch(() => undefined)
      }
    }
    const source = this.#cache.refresh(target, this.#loader(spec))
    return (await (spec.transform === undefined ? source : this.#views.of(id, source, spec.transform))) as T
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
    return this.#cache.settle()
  }

  /** One function per provider, shared by its refs, so that a middleware awaits each provider once. */
  readonly #settle = (): Promise<void> => this.#cache.settle()

  stats(): TtlCacheStats {
    return this.#cache.stats()
  }

  #read(id: string, options: SecretGetOptions | undefined): Promise<unknown> {
    let spec: ReadSpec
    let ttl: TtlCacheGetOptions | undefined
    try {
      checkOptions(`${COMPONENT}.get`, options, GET_OPTIONS)
      spec = this.#spec(id, options)
      ttl = options?.ttl === undefined ? undefined : { ttl: options.ttl }
    } catch (error) {
      return Promise.reject(error)
    }
    const source = this.#cache.get(cacheKey(spec), this.#loader(spec), ttl)
    return spec.transform === undefined ? source : this.#views.of(id, source, spec.transform)
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

  async #sdk() {
    const sdk = await loadSdk()
    return { sdk, client: this.#client ?? awsClient(sdk.SecretsManagerClient) }
  }

  async #getOne(id: string, versionStage: string | undefined, signal: AbortSignal): Promise<RawSecret> {
    const { sdk, client } = await this.#sdk()
    let output: GetSecretValueCommandOutput
    try {
      output = await client.send(
        new sdk.GetSecretValueCommand({ SecretId: id, VersionStage: versionStage }),
        {
          abortSignal: signal,
        },
      )
    } catch (error) {
      throw errorCode(error) === 'ResourceNotFoundException' ? new SecretNotFoundError([id]) : error
    }
    return secretValue(output)
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
    const { sdk, client } = await this.#sdk()
    const output = await client.send(new sdk.BatchGetSecretValueCommand({ SecretIdList: ids }), {
      abortSignal: signal,
    })
    const found = new Map<string, RawSecret | Error>()
    for (const secret of output.SecretValues ?? []) {
      const value = secretValue(secret)
      for (const alias of [secret.Name, secret.ARN]) if (alias !== undefined) found.set(alias, value)
    }
    for (const failure of output.Errors ?? []) {
      const id = failure.SecretId as string
      const code = failure.ErrorCode ?? 'Error'
      found.set(
        id,
        code === 'ResourceNotFoundException'
          ? new SecretNotFoundError([id])
          : Object.assign(new Error(`BatchGetSecretValue failed for this secret (${code})`), { name: code }),
      )
    }
    const results: BatchResults<RawSecret> = new Map()
    for (const id of ids) results.set(id, found.get(id) ?? new SecretNotFoundError([id]))
    return results
  }
}

function secretValue(output: { SecretString?: string; SecretBinary?: Uint8Array }): RawSecret {
  return output.SecretString ?? output.SecretBinary ?? ''
}

/** The cache key of one remote value: an id, at its current version or at a version stage. */
function cacheKey(spec: ReadSpec): string {
  if (spec.versionStage === undefined) return spec.id
  // '#' cannot appear in a secret name, so these keys never collide with a plain id.
  return `${spec.id}#${spec.versionStage}`
}
