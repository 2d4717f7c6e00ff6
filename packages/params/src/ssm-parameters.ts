import type { SSMClient } from '@aws-sdk/client-ssm'
import { invalidOption } from '@warmstart/core'
import {
  type CallOptions,
  MalformedResponseError,
  NO_DEADLINE,
  type SsmBackend,
  ssmBackend,
  type WireParameter,
} from './backend/index.js'
import { type BatchResults, MicrotaskBatcher } from './batcher.js'
import { powertoolsDefaults } from './env.js'
import { ParameterNotFoundError } from './errors.js'
import { type ProviderCacheOptions, providerCache } from './provider-cache.js'
import type { ParamRef } from './ref.js'
import { applyTransform, isTransform, type Transform } from './transform.js'
import type { Ttl } from './ttl.js'
import type { TtlCache, TtlCacheStats } from './ttl-cache.js'

const COMPONENT = 'ssmParameters'
/** GetParameters takes at most 10 names; GetParametersByPath returns at most 10 per page. */
const MAX_NAMES = 10

export interface SsmParametersOptions extends ProviderCacheOptions {
  /**
   * An SDK client: requests go through it (its credentials, retries, middleware). Default: none,
   * and requests are AWS JSON 1.1 signed with SigV4 over Node's own HTTP, without loading the SDK.
   */
  client?: SSMClient
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
  ): Promise<T | undefined>
  <T = unknown>(name: string, options: SsmGetOptions & { transform: 'json' }): Promise<T>
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
  ): ParamRef<T | undefined>
  <T = unknown>(name: string, options: SsmGetOptions & { transform: 'json' }): ParamRef<T>
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
  /** Fetches a parameter now, whatever its age, and returns the new value. */
  refresh<T = unknown>(name: string, options?: SsmGetOptions): Promise<T>
  /** Forgets a cached parameter (read with these options); the next read fetches it. */
  invalidate(name: string, options?: SsmGetOptions): boolean
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

class SsmProvider implements SsmParameters {
  readonly #cache: TtlCache
  readonly #defaultDecrypt: boolean
  readonly #backend: SsmBackend
  readonly #batchers: Record<'decrypted' | 'raw', MicrotaskBatcher<RawParameter>>
  readonly get: SsmGet
  readonly ref: SsmRef

  constructor(options: SsmParametersOptions) {
    if (typeof options !== 'object' || options === null)
      throw invalidOption(COMPONENT, 'options', 'must be an object')
    this.#backend = ssmBackend(COMPONENT, options)
    this.#cache = providerCache('ssm', options)
    this.#defaultDecrypt = powertoolsDefaults().decrypt ?? true
    this.#batchers = {
      decrypted: new MicrotaskBatcher(MAX_NAMES, (names) => this.#getParameters(names, true)),
      raw: new MicrotaskBatcher(MAX_NAMES, (names) => this.#getParameters(names, false)),
    }
    this.get = ((name: string, getOptions?: SsmGetOptions) => this.#read(name, getOptions)) as SsmGet
    this.ref = ((name: string, refOptions?: SsmGetOptions) => {
      // Built once per ref: each resolve is a cache read with no spec, key or loader to make.
      const spec = this.#spec(name, refOptions)
      const key = cacheKey(spec)
      const load = () => this.#load(spec)
      const ttl = refOptions?.ttl === undefined ? undefined : { ttl: refOptions.ttl }
      return {
        source: 'ssm',
        name,
        resolve: () => this.#cache.get(key, load, ttl),
        settle: this.#settle,
      }
    }) as SsmRef
  }

  async getMany<T>(names: readonly string[], options?: SsmGetOptions): Promise<Record<string, T>> {
    if (!Array.isArray(names)) throw invalidOption(COMPONENT, 'names', 'must be an array of parameter names')
    const outcomes = await Promise.allSettled(names.map((name) => this.#read(name, options)))
    const values: Record<string, T> = {}
    const missing: string[] = []
    for (const [index, outcome] of outcomes.entries()) {
      const name = names[index] as string
      if (outcome.status === 'fulfilled') values[name] = outcome.value as T
      else if (outcome.reason instanceof ParameterNotFoundError) missing.push(...outcome.reason.names)
      else throw outcome.reason
    }
    if (missing.length > 0) throw new ParameterNotFoundError(missing)
    return values
  }

  getByPath<T>(path: string, options: SsmGetByPathOptions = {}): Promise<Readonly<Record<string, T>>> {
    if (typeof path !== 'string' || path === '')
      throw invalidOption(COMPONENT, 'path', 'must be a non-empty string')
    const recursive = options.recursive ?? true
    const { transform, decrypt } = this.#spec(path, options)
    const key = `${path}#path${recursive ? ',recursive' : ''},${transform ?? 'raw'}${decrypt ? '' : ',nodecrypt'}`
    const ttl = options.ttl === undefined ? undefined : { ttl: options.ttl }
    return this.#cache.get(key, () => this.#getByPath(path, recursive, decrypt, transform), ttl) as Promise<
      Record<string, T>
    >
  }

  refresh<T>(name: string, options?: SsmGetOptions): Promise<T> {
    const spec = this.#spec(name, options)
    return this.#cache.refresh(cacheKey(spec), () => this.#load(spec)) as Promise<T>
  }

  invalidate(name: string, options?: SsmGetOptions): boolean {
    return this.#cache.invalidate(cacheKey(this.#spec(name, options)))
  }

  settle(): Promise<void> {
    return this.#cache.settle()
  }

  /** One function per provider, shared by its refs, so that a middleware awaits each provider once. */
  readonly #settle = (): Promise<void> => this.#cache.settle()

  stats(): TtlCacheStats {
    return this.#cache.stats()
  }

  #read(name: string, options: SsmGetOptions | undefined): Promise<unknown> {
    // The common read (no options) builds no spec and no closure while the value is fresh.
    if (options === undefined && this.#defaultDecrypt && typeof name === 'string' && name !== '') {
      return this.#cache.get(name, this.#loadPlain)
    }
    const spec = this.#spec(name, options)
    const ttl = options?.ttl === undefined ? undefined : { ttl: options.ttl }
    return this.#cache.get(cacheKey(spec), () => this.#load(spec), ttl)
  }

  readonly #loadPlain = (name: string): Promise<unknown> =>
    this.#load({ name, transform: undefined, decrypt: true, optional: false })

  #spec(name: string, options: SsmGetOptions | undefined): ReadSpec {
    if (typeof name !== 'string' || name === '')
      throw invalidOption(COMPONENT, 'name', 'must be a non-empty string')
    const transform = options?.transform
    if (!isTransform(transform)) throw invalidOption(COMPONENT, 'transform', "must be 'json' or 'binary'")
    const decrypt = options?.decrypt ?? this.#defaultDecrypt
    if (typeof decrypt !== 'boolean') throw invalidOption(COMPONENT, 'decrypt', 'must be a boolean')
    return { name, transform, decrypt, optional: options?.optional === true }
  }

  async #load(spec: ReadSpec): Promise<unknown> {
    let raw: RawParameter
    try {
      raw = await this.#batchers[spec.decrypt ? 'decrypted' : 'raw'].load(spec.name)
    } catch (error) {
      if (spec.optional && error instanceof ParameterNotFoundError) return undefined
      throw error
    }
    return toValue(spec.name, raw, spec.transform)
  }

  async #getParameters(
    names: string[],
    decrypt: boolean,
    call: CallOptions = NO_DEADLINE,
  ): Promise<BatchResults<RawParameter>> {
    const output = await this.#backend.getParameters({ Names: names, WithDecryption: decrypt }, call)
    const found = new Map<string, RawParameter | Error>()
    for (const parameter of output.Parameters ?? []) {
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
    call: CallOptions = NO_DEADLINE,
  ): Promise<Readonly<Record<string, unknown>>> {
    const values: Record<string, unknown> = {}
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
        call,
      )
      for (const parameter of page.Parameters ?? []) addParameter(values, parameter, transform)
      nextToken = page.NextToken
    } while (nextToken !== undefined && nextToken !== '')
    return Object.freeze(values)
  }
}

function addParameter(
  values: Record<string, unknown>,
  parameter: WireParameter,
  transform: Transform | undefined,
): void {
  const name = parameter.Name
  if (typeof name !== 'string')
    throw new MalformedResponseError('GetParametersByPath', 'a parameter without Name')
  values[name] = toValue(name, rawParameter(parameter, 'GetParametersByPath'), transform)
}

/** A parameter's value and type; one without a string Value is a malformed answer, never `''`. */
function rawParameter(parameter: WireParameter, operation: string): RawParameter {
  if (typeof parameter.Value !== 'string')
    throw new MalformedResponseError(operation, 'a parameter without Value')
  return { value: parameter.Value, type: parameter.Type }
}

function toValue(name: string, raw: RawParameter, transform: Transform | undefined): unknown {
  if (transform !== undefined) return applyTransform(name, transform, raw.value)
  return raw.type === 'StringList' ? Object.freeze(raw.value.split(',')) : raw.value
}

function cacheKey(spec: ReadSpec): string {
  if (spec.transform === undefined && spec.decrypt && !spec.optional) return spec.name
  // '#' cannot appear in a parameter name, so these keys never collide with a plain name.
  return `${spec.name}#${spec.transform ?? 'raw'}${spec.decrypt ? '' : ',nodecrypt'}${spec.optional ? ',optional' : ''}`
}
