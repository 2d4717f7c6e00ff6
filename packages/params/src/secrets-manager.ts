import type { GetSecretValueCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { awsClient } from '@warmstart/client'
import { invalidOption } from '@warmstart/core'
import { type BatchResults, MicrotaskBatcher } from './batcher.js'
import { errorCode, SecretNotFoundError } from './errors.js'
import { missingPeer, peerLoader } from './peer.js'
import { type ProviderCacheOptions, providerCache } from './provider-cache.js'
import type { ParamRef } from './ref.js'
import { applyTransform, isTransform, type Transform } from './transform.js'
import type { Ttl } from './ttl.js'
import type { TtlCache, TtlCacheStats } from './ttl-cache.js'

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
  <T = unknown>(id: string, options: SecretGetOptions & { transform: 'json' }): Promise<T>
  (id: string, options: SecretGetOptions & { transform: 'binary' }): Promise<Uint8Array>
  <T extends string | Uint8Array = string>(
    id: string,
    options?: SecretGetOptions & { transform?: undefined },
  ): Promise<T>
}

/** Describes a secret for `paramsMiddleware`, typed like `get`. */
export interface SecretRef {
  <T = unknown>(id: string, options: SecretGetOptions & { transform: 'json' }): ParamRef<T>
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
   * Fetches a secret now, whatever its age, and returns the new value: for a consumer that has
   * learnt the cached value is wrong (a password rejected after a rotation).
   */
  refresh<T = string | Uint8Array>(id: string, options?: SecretGetOptions): Promise<T>
  invalidate(id: string, options?: SecretGetOptions): boolean
  settle(): Promise<void>
  stats(): TtlCacheStats
}

interface ReadSpec {
  readonly id: string
  readonly transform: Transform | undefined
  readonly versionStage: string | undefined
}

type RawSecret = string | Uint8Array

/** AWS Secrets Manager, cached per environment. See {@link SecretsManagerOptions}. */
export function secretsManager(options: SecretsManagerOptions = {}): SecretsManager {
  return new SecretsProvider(options)
}

class SecretsProvider implements SecretsManager {
  readonly #cache: TtlCache
  readonly #client: SecretsManagerClient | undefined
  #batch: boolean
  readonly #batcher: MicrotaskBatcher<RawSecret>
  readonly get: SecretGet
  readonly ref: SecretRef

  constructor(options: SecretsManagerOptions) {
    if (typeof options !== 'object' || options === null)
      throw invalidOption(COMPONENT, 'options', 'must be an object')
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
    this.#cache = providerCache('secrets', options)
    this.#batcher = new MicrotaskBatcher(MAX_IDS, (ids) => this.#fetchCurrent(ids))
    this.get = ((id: string, getOptions?: SecretGetOptions) => this.#read(id, getOptions)) as SecretGet
    this.ref = ((id: string, refOptions?: SecretGetOptions) => {
      // Built once per ref: each resolve is a cache read with no spec, key or loader to make.
      const spec = this.#spec(id, refOptions)
      const key = cacheKey(spec)
      const load = () => this.#load(spec)
      const ttl = refOptions?.ttl === undefined ? undefined : { ttl: refOptions.ttl }
      return {
        source: 'secretsmanager',
        name: id,
        resolve: () => this.#cache.get(key, load, ttl),
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

  refresh<T>(id: string, options?: SecretGetOptions): Promise<T> {
    const spec = this.#spec(id, options)
    return this.#cache.refresh(cacheKey(spec), () => this.#load(spec)) as Promise<T>
  }

  invalidate(id: string, options?: SecretGetOptions): boolean {
    return this.#cache.invalidate(cacheKey(this.#spec(id, options)))
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
    const spec = this.#spec(id, options)
    const ttl = options?.ttl === undefined ? undefined : { ttl: options.ttl }
    return this.#cache.get(cacheKey(spec), () => this.#load(spec), ttl)
  }

  #spec(id: string, options: SecretGetOptions | undefined): ReadSpec {
    if (typeof id !== 'string' || id === '')
      throw invalidOption(COMPONENT, 'id', 'must be a non-empty string')
    const transform = options?.transform
    if (!isTransform(transform)) throw invalidOption(COMPONENT, 'transform', "must be 'json' or 'binary'")
    const versionStage = options?.versionStage
    if (versionStage !== undefined && (typeof versionStage !== 'string' || versionStage === '')) {
      throw invalidOption(COMPONENT, 'versionStage', 'must be a non-empty string')
    }
    return { id, transform, versionStage }
  }

  async #load(spec: ReadSpec): Promise<unknown> {
    const raw =
      spec.versionStage === undefined
        ? await this.#batcher.load(spec.id)
        : await this.#getOne(spec.id, spec.versionStage)
    return spec.transform === undefined ? raw : applyTransform(spec.id, spec.transform, raw)
  }

  async #sdk() {
    const sdk = await loadSdk()
    return { sdk, client: this.#client ?? awsClient(sdk.SecretsManagerClient) }
  }

  async #getOne(id: string, versionStage: string | undefined): Promise<RawSecret> {
    const { sdk, client } = await this.#sdk()
    let output: GetSecretValueCommandOutput
    try {
      output = await client.send(new sdk.GetSecretValueCommand({ SecretId: id, VersionStage: versionStage }))
    } catch (error) {
      throw errorCode(error) === 'ResourceNotFoundException' ? new SecretNotFoundError([id]) : error
    }
    return secretValue(output)
  }

  async #fetchCurrent(ids: string[]): Promise<BatchResults<RawSecret>> {
    if (ids.length > 1 && this.#batch) {
      try {
        return await this.#batchGet(ids)
      } catch (error) {
        // A role allowed GetSecretValue but not BatchGetSecretValue: read one by one from now on.
        if (errorCode(error) !== 'AccessDeniedException') throw error
        this.#batch = false
      }
    }
    const results: BatchResults<RawSecret> = new Map()
    const outcomes = await Promise.allSettled(ids.map((id) => this.#getOne(id, undefined)))
    for (const [index, outcome] of outcomes.entries()) {
      const id = ids[index] as string
      if (outcome.status === 'fulfilled') results.set(id, outcome.value)
      else if (outcome.reason instanceof SecretNotFoundError) results.set(id, outcome.reason)
      else throw outcome.reason
    }
    return results
  }

  async #batchGet(ids: string[]): Promise<BatchResults<RawSecret>> {
    const { sdk, client } = await this.#sdk()
    const output = await client.send(new sdk.BatchGetSecretValueCommand({ SecretIdList: ids }))
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

function cacheKey(spec: ReadSpec): string {
  if (spec.transform === undefined && spec.versionStage === undefined) return spec.id
  return `${spec.id}#${spec.transform ?? 'raw'}${spec.versionStage === undefined ? '' : `,${spec.versionStage}`}`
}
