import { checkOptions, invalidOption } from '@warmstart/core/internal'
import {
  MalformedResponseError,
  type SsmBackend,
  type SsmSdkClient,
  ssmBackend,
  type WireParameter,
} from './backend/index.js'
import { type BatchResults, MicrotaskBatcher } from './batcher.js'
import { powertoolsDefaults } from './env.js'
import { ParameterNotFoundError } from './errors.js'
import { PROVIDER_OPTIONS, type ProviderCacheOptions, providerCache } from './provider-cache.js'
import { ProviderReads } from './provider-reads.js'
import { readMany } from './read-many.js'
import { objectsOf, setOwn } from './records.js'
import type { ParamRef } from './ref.js'
import { applyTransform, isTransform, type Transform } from './transform.js'
import type { Ttl } from './ttl.js'
import type { Loader, TtlCache, TtlCacheStats } from './ttl-cache.js'
import type { DeepReadonly } from './types.js'
import type { RawValue } from './views.js'

const COMPONENT = 'ssmParameters'
/** GetParameters takes at most 10 names; GetParametersByPath returns at most 10 per page. */
const MAX_NAMES = 10

export interface SsmParametersOptions extends ProviderCacheOptions {
  /**
   * An SDK client, passed through `fromSsmClient()` of `'@warmstart/params/ssm-sdk'`: requests
   * go through it (its credentials, retries, middleware). Default: none, and requests are AWS JSON
   * 1.1 signed with SigV4 over Node's own HTTP, without loading the SDK.
   */
  client?: SsmSdkClient
  /**
   * The default transport's endpoint, such as `'http://127.0.0.1:4566'`. Default:
   * AWS_ENDPOINT_URL_SSM, else AWS_ENDPOINT_URL, else `https://ssm.<region>.amazonaws.com`.
   */
  endpoint?: string
  /** The default transport's region. Default AWS_REGION (set by the Lambda runtime), else AWS_DEFAULT_REGION. */
  region?: string
}

export interface SsmGetOptions {
  /** `'json'` parses (the result is frozen), `'binary'` decodes base64 to bytes. */
  transform?: Transform
  /** Decrypt SecureString values. Default true (or `POWERTOOLS_PARAMETERS_SSM_DECRYPT`). */
  decrypt?: boolean
  /** Resolve a missing parameter to `undefined` instead of throwing `ParameterNotFoundError`. */
  optional?: boolean
  /** This value's TTL, instead of the provider's. */
  ttl?: Ttl
}

export interface SsmGetByPathOptions {
  /** Include parameters in nested paths. Default true. */
  recursive?: boolean
  decrypt?: boolean
  transform?: Transform
  ttl?: Ttl
}

/**
 * Reads a parameter. String and SecureString values are strings, StringList values are arrays
 * (`get<string[]>(name)`); names may carry a version or label (`/app/x:3`, `/app/x:prod`).
 */
export interface SsmGet {
  <T = unknown>(
    name: string,
    options: SsmGetOptions & { transform: 'json'; optional: true },
  ): Promise<DeepReadonly<T> | undefined>
  <T = unknown>(name: string, options: SsmGetOptions & { transform: 'json' }): Promise<DeepReadonly<T>>
  (
    name: string,
    options: SsmGetOptions & { transform: 'binary'; optional: true },
  ): Promise<Uint8Array | undefined>
  (name: string, options: SsmGetOptions & { transform: 'binary' }): Promise<Uint8Array>
  <T extends string | string[] = string>(
    name: string,
    options: SsmGetOptions & { transform?: undefined; optional: true },
  ): Promise<T | undefined>
  <T extends string | string[] = string>(
    name: string,
    options?: SsmGetOptions & { transform?: undefined },
  ): Promise<T>
}

/** Describes a parameter for `paramsMiddleware`, typed like `get` with the same options. */
export interface SsmRef {
  <T = unknown>(
    name: string,
    options: SsmGetOptions & { transform: 'json'; optional: true },
  ): ParamRef<DeepReadonly<T> | undefined>
  <T = unknown>(name: string, options: SsmGetOptions & { transform: 'json' }): ParamRef<DeepReadonly<T>>
  (
    name: string,
    options: SsmGetOptions & { transform: 'binary'; optional: true },
  ): ParamRef<Uint8Array | undefined>
  (name: string, options: SsmGetOptions & { transform: 'binary' }): ParamRef<Uint8Array>
  <T extends string | string[] = string>(
    name: string,
    options: SsmGetOptions & { transform?: undefined; optional: true },
  ): ParamRef<T | undefined>
  <T extends string | string[] = string>(
    name: string,
    options?: SsmGetOptions & { transform?: undefined },
  ): ParamRef<T>
}

export interface SsmParameters {
  readonly get: SsmGet
  readonly ref: SsmRef
  /**
   * Reads several parameters at once (one GetParameters per 10 names, shared with other reads of
   * the same tick). Missing names are one `ParameterNotFoundError` that lists them all.
   */
  getMany<T = string | string[]>(
    names: readonly string[],
    options?: SsmGetOptions,
  ): Promise<Record<string, T>>
  /** Every parameter under a path, by full name, page by page (10 per GetParametersByPath call). */
  getByPath<T = string | string[]>(
    path: string,
    options?: SsmGetByPathOptions,
  ): Promise<Readonly<Record<string, T>>>
  /**
   * Fetches a parameter now, whatever its age, and returns the new value (the view `options`
   * ask for). Every cached read of that name (decrypted or not, optional or not, each transform)
   * sees the new value: they are views of one fetch.
   */
  refresh<T = unknown>(name: string, options?: SsmGetOptions): Promise<T>
  /** Forgets a cached parameter, every view of it; the next read fetches it. Returns whether one was cached. */
  invalidate(name: string): boolean
  /** Resolves when every refresh started ahead of expiry has finished. */
  settle(): Promise<void>
  stats(): TtlCacheStats
}

interface RawParameter {
  readonly value: string
  readonly type: string | undefined
}

interface ReadSpec {
  readonly name: string
  readonly transform: Transform | undefined
  readonly decrypt: boolean
  readonly optional: boolean
}

/** SSM Parameter Store, cached per environment. See {@link SsmParametersOptions}. */
export function ssmParameters(options: SsmParametersOptions = {}): SsmParameters {
  return new SsmProvider(options)
}

/** What the SSM cache holds: one parameter's raw value (undefined: an optional read of a missing one), or a path's values. */
type SsmCached = RawValue | undefined | Readonly<Record<string, unknown>>

const GET_OPTIONS = ['transform', 'decrypt', 'optional', 'ttl'] as const
const PATH_OPTIONS = ['recursive', 'decrypt', 'transform', 'ttl'] as const

const PARAMETER_NOT_FOUND = {
  missingOf: (error: unknown) => (error instanceof ParameterNotFoundError ? error.names : undefined),
  error: (missing: string[]) => new ParameterNotFoundError(missing),
}

class SsmProvider implements SsmParameters {
  readonly #cache: TtlCache<SsmCached>
  readonly #reads: ProviderReads<ReadSpec, SsmCached, SsmGetOptions>
  readonly #defaultDecrypt: boolean
  readonly #backend: SsmBackend
  readonly #batchers: Record<'decrypted' | 'raw', MicrotaskBatcher<RawParameter>>
  readonly get: SsmGet
  readonly ref: SsmRef

  constructor(options: SsmParametersOptions) {
    checkOptions(COMPONENT, options, [...PROVIDER_OPTIONS, 'client', 'endpoint', 'region'])
    this.#backend = ssmBackend(COMPONENT, options)
    this.#cache = providerCache<SsmCached>('ssm', options, COMPONENT)
    this.#defaultDecrypt = powertoolsDefaults().decrypt ?? true
    this.#batchers = {
      decrypted: new MicrotaskBatcher(MAX_NAMES, (names, signal) => this.#getParameters(names, true, signal)),
      raw: new MicrotaskBatcher(MAX_NAMES, (names, signal) => this.#getParameters(names, false, signal)),
    }
    // Reads of one name never reach a path's record: only getByPath caches those, under its own keys.
    this.#reads = new ProviderReads<ReadSpec, SsmCached, SsmGetOptions>({
      component: COMPONENT,
      source: 'ssm',
      getOptions: GET_OPTIONS,
      cache: this.#cache,
      spec: (name, options) => this.#spec(name, options),
      key: cacheKey,
      loader: (spec) => this.#loader(spec),
      // Every cached read of the name is fetched again in the same tick: one GetParameters answers them all.
      siblings: variantKeys,
    })
    this.get = ((name: string, getOptions?: SsmGetOptions) => this.#read(name, getOptions)) as SsmGet
    this.ref = ((name: string, refOptions?: SsmGetOptions) => this.#reads.ref(name, refOptions)) as SsmRef
  }

  async getMany<T>(names: readonly string[], options?: SsmGetOptions): Promise<Record<string, T>> {
    if (!Array.isArray(names)) throw invalidOption(COMPONENT, 'names', 'must be an array of parameter names')
    return readMany<T>(names, (name) => this.#read(name, options), PARAMETER_NOT_FOUND)
  }

  async getByPath<T>(path: string, options?: SsmGetByPathOptions): Promise<Readonly<Record<string, T>>> {
    checkOptions(`${COMPONENT}.getByPath`, options, PATH_OPTIONS)
    if (typeof path !== 'string' || path === '')
      throw invalidOption(COMPONENT, 'path', 'must be a non-empty string')
    const recursive = options?.recursive ?? true
    if (typeof recursive !== 'boolean') throw invalidOption(COMPONENT, 'recursive', 'must be a boolean')
    const { transform, decrypt } = this.#spec(path, options)
    const key = `${path}#path${recursive ? ',recursive' : ''},${transform ?? 'raw'}${decrypt ? '' : ',nodecrypt'}`
    const ttl = options?.ttl === undefined ? undefined : { ttl: options.ttl }
    return (await this.#cache.get(
      key,
      (_, signal) => this.#getByPath(path, recursive, decrypt, transform, signal),
      ttl,
    )) as Readonly<Record<string, T>>
  }

  async refresh<T>(name: string, options?: SsmGetOptions): Promise<T> {
    return (await this.#reads.refresh(name, options)) as T
  }

  invalidate(name: string): boolean {
    if (typeof name !== 'string' || name === '')
      throw invalidOption(COMPONENT, 'name', 'must be a non-empty string')
    let found = false
    for (const key of variantKeys(name)) if (this.#cache.invalidate(key)) found = true
    return found
  }

  settle(): Promise<void> {
    return this.#reads.settle()
  }

  stats(): TtlCacheStats {
    return this.#reads.stats()
  }

  #read(name: string, options: SsmGetOptions | undefined): Promise<unknown> {
    // The common read (no options) builds no spec and no closure while the value is fresh.
    // A name with '#' takes the checked path, where it is refused: it could hit a variant's key.
    if (
      options === undefined &&
      this.#defaultDecrypt &&
      typeof name === 'string' &&
      name !== '' &&
      !name.includes('#')
    ) {
      return this.#cache.get(name, this.#loadPlain)
    }
    return this.#reads.read(name, options)
  }

  readonly #loadPlain: Loader<SsmCached> = (name, signal) =>
    this.#load({ name, transform: undefined, decrypt: true, optional: false }, signal)

  #loader(spec: ReadSpec): Loader<SsmCached> {
    if (spec.decrypt && !spec.optional) return this.#loadPlain
    return (_, signal) => this.#load(spec, signal)
  }

  #spec(name: string, options: SsmGetOptions | SsmGetByPathOptions | undefined): ReadSpec {
    if (typeof name !== 'string' || name === '')
      throw invalidOption(COMPONENT, 'name', 'must be a non-empty string')
    // No parameter name holds '#', and the cache keys of a name's variants do (cacheKey): one that
    // held it could be served another name's value from the cache instead of SSM's refusal.
    if (name.includes('#'))
      throw invalidOption(COMPONENT, 'name', "must not contain '#' (no parameter name does)")
    const transform = options?.transform
    if (!isTransform(transform)) throw invalidOption(COMPONENT, 'transform', "must be 'json' or 'binary'")
    const decrypt = options?.decrypt ?? this.#defaultDecrypt
    if (typeof decrypt !== 'boolean') throw invalidOption(COMPONENT, 'decrypt', 'must be a boolean')
    const optional = (options as SsmGetOptions | undefined)?.optional ?? false
    if (typeof optional !== 'boolean') throw invalidOption(COMPONENT, 'optional', 'must be a boolean')
    return { name, transform, decrypt, optional }
  }

  /** The raw value of a parameter; the transform is a view of it (see Views). */
  async #load(spec: ReadSpec, signal: AbortSignal): Promise<RawValue | undefined> {
    let raw: RawParameter
    try {
      raw = await this.#batchers[spec.decrypt ? 'decrypted' : 'raw'].load(spec.name, signal)
    } catch (error) {
      if (spec.optional && error instanceof ParameterNotFoundError) return undefined
      throw error
    }
    return rawValue(raw)
  }

  async #getParameters(
    names: string[],
    decrypt: boolean,
    signal: AbortSignal,
  ): Promise<BatchResults<RawParameter>> {
    const output = await this.#backend.getParameters({ Names: names, WithDecryption: decrypt }, { signal })
    const found = new Map<string, RawParameter | Error>()
    for (const parameter of objectsOf(output.Parameters)) {
      // A malformed entry fails its own name only.
      const raw =
        typeof parameter.Value === 'string'
          ? rawParameter(parameter, 'GetParameters')
          : new MalformedResponseError('GetParameters', 'a parameter without Value')
      // A name asked for with a version or label comes back as Name plus Selector; one asked for
      // by ARN comes back with its ARN.
      if (parameter.Selector !== undefined) found.set(`${parameter.Name}${parameter.Selector}`, raw)
      else for (const alias of [parameter.Name, parameter.ARN]) if (alias !== undefined) found.set(alias, raw)
    }
    // A name is missing only when the service says so; one it neither returns nor lists as invalid
    // is a malformed answer (an empty body parses as an empty output on the SDK path).
    const invalid = new Set(output.InvalidParameters ?? [])
    const results: BatchResults<RawParameter> = new Map()
    for (const name of names) {
      results.set(
        name,
        found.get(name) ??
          (invalid.has(name)
            ? new ParameterNotFoundError([name])
            : new MalformedResponseError(
                'GetParameters',
                'a name neither in Parameters nor in InvalidParameters',
              )),
      )
    }
    return results
  }

  async #getByPath(
    path: string,
    recursive: boolean,
    decrypt: boolean,
    transform: Transform | undefined,
    signal: AbortSignal,
  ): Promise<Readonly<Record<string, unknown>>> {
    const values: Record<string, unknown> = {}
    // A token already followed would page through the same pages again until the budget ran out.
    const followed = new Set<string>()
    let nextToken: string | undefined
    do {
      const page = await this.#backend.getParametersByPath(
        {
          Path: path,
          Recursive: recursive,
          WithDecryption: decrypt,
          MaxResults: MAX_NAMES,
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        },
        { signal },
      )
      for (const parameter of page.Parameters ?? []) addParameter(values, parameter, transform)
      nextToken = page.NextToken === '' ? undefined : page.NextToken
      if (nextToken !== undefined) {
        if (followed.has(nextToken))
          throw new MalformedResponseError('GetParametersByPath', 'a NextToken already followed')
        followed.add(nextToken)
      }
    } while (nextToken !== undefined)
    return Object.freeze(values)
  }
}

function addParameter(
  values: Record<string, unknown>,
  parameter: WireParameter,
  transform: Transform | undefined,
): void {
  const name = (parameter as WireParameter | null)?.Name
  if (typeof name !== 'string')
    throw new MalformedResponseError('GetParametersByPath', 'a parameter without Name')
  setOwn(values, name, toValue(name, rawParameter(parameter, 'GetParametersByPath'), transform))
}

/** A parameter's value and type; one without a string Value is a malformed answer, never `''`. */
function rawParameter(parameter: WireParameter, operation: string): RawParameter {
  if (typeof parameter.Value !== 'string')
    throw new MalformedResponseError(operation, 'a parameter without Value')
  return { value: parameter.Value, type: parameter.Type }
}

function toValue(name: string, raw: RawParameter, transform: Transform | undefined): unknown {
  if (transform !== undefined) return applyTransform(name, transform, raw.value)
  return rawValue(raw)
}

function rawValue(raw: RawParameter): RawValue {
  return raw.type === 'StringList' ? Object.freeze(raw.value.split(',')) : raw.value
}

/** The cache key of one remote value: a name, read decrypted or not, optional or not. */
function cacheKey(spec: ReadSpec): string {
  if (spec.decrypt && !spec.optional) return spec.name
  // '#' cannot appear in a parameter name, so these keys never collide with a plain name.
  return `${spec.name}#${spec.decrypt ? '' : 'nodecrypt'}${spec.optional ? ',optional' : ''}`
}

/** Every cache key a name can have (see cacheKey): what refresh and invalidate act on. */
function variantKeys(name: string): string[] {
  return [name, `${name}#nodecrypt`, `${name}#,optional`, `${name}#nodecrypt,optional`]
}
