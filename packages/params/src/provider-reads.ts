import { checkOptions, durationOption } from '@warmstart/core/internal'
import { type ParamRef, providerRef } from './ref.js'
import type { Transform } from './transform.js'
import type { Ttl } from './ttl.js'
import type { Loader, TtlCache, TtlCacheGetOptions, TtlCacheStats } from './ttl-cache.js'
import { type RawValue, Views } from './views.js'

/** What one read asks for, as a provider has checked it: at least the view to give. */
export interface ReadSpec {
  readonly transform: Transform | undefined
}

/** What a provider's reads of one value are made of: the rest of a read is the same for both. */
export interface ReadPlan<S extends ReadSpec, V, O extends TtlOption> {
  /** Names the provider in option errors (`ssmParameters.get: ...`). */
  readonly component: string
  readonly source: ParamRef<unknown>['source']
  /** The option names `get`, `ref` and `refresh` take. */
  readonly getOptions: readonly string[]
  readonly cache: TtlCache<V>
  /** The checked spec of a read of `name`; throws the option error. */
  spec(name: string, options: O | undefined): S
  /** The cache entry of the remote value the spec reads. */
  key(spec: S): string
  loader(spec: S): Loader<V>
  /** The other cache entries a refresh of `spec` fetches again (each stage or variant of the name). */
  siblings(name: string, spec: S): Iterable<string>
}

export interface TtlOption {
  readonly ttl?: Ttl
}

/**
 * A provider's reads of one value each (`get`, `ref`, `refresh`): check the options, make the
 * spec, read its cache entry, derive the view the transform asks for. A view reads only the
 * entries of single values (what `plan.key` names), which hold a RawValue or, for an optional
 * read of a missing one, undefined.
 */
export class ProviderReads<S extends ReadSpec, V, O extends TtlOption> {
  readonly #plan: ReadPlan<S, V, O>
  readonly #views = new Views()

  constructor(plan: ReadPlan<S, V, O>) {
    this.#plan = plan
  }

  /** One read; an option error is the promise's rejection. */
  read(name: string, options: O | undefined): Promise<unknown> {
    const plan = this.#plan
    let spec: S
    let ttl: TtlCacheGetOptions | undefined
    try {
      checkOptions(`${plan.component}.get`, options, plan.getOptions)
      spec = plan.spec(name, options)
      ttl = ttlOf(options)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#view(name, spec, plan.cache.get(plan.key(spec), plan.loader(spec), ttl))
  }

  /** A ref of one read, built once: its resolve is one cache read. Option errors are thrown here. */
  ref(name: string, options: O | undefined): ParamRef<unknown> {
    const plan = this.#plan
    checkOptions(`${plan.component}.ref`, options, plan.getOptions)
    const spec = plan.spec(name, options)
    // Checked now, with the other options, and once: each resolve reads with the milliseconds.
    const ttl = options?.ttl === undefined ? undefined : { ttl: refTtl(plan.component, options.ttl) }
    const read = { cache: plan.cache, key: plan.key(spec), load: plan.loader(spec), options: ttl }
    const view = spec.transform === undefined ? undefined : this.#views.reader(name, spec.transform)
    return providerRef(
      plan.source,
      name,
      read,
      view as ((raw: Promise<V>) => Promise<unknown>) | undefined,
      this.settle,
    )
  }

  /** Fetches the read's value now (and, in the same tick, its siblings that are cached) and gives the new view. */
  async refresh(name: string, options: O | undefined): Promise<unknown> {
    const plan = this.#plan
    checkOptions(`${plan.component}.refresh`, options, plan.getOptions)
    const spec = plan.spec(name, options)
    const target = plan.key(spec)
    // Their failures reach their own next reads, not this caller.
    for (const key of plan.siblings(name, spec)) {
      if (key !== target && plan.cache.has(key)) plan.cache.refresh(key).catch(() => undefined)
    }
    return this.#view(name, spec, plan.cache.refresh(target, plan.loader(spec)))
  }

  /** One function per provider, shared by its refs, so that a middleware awaits each provider once. */
  readonly settle = (): Promise<void> => this.#plan.cache.settle()

  stats(): TtlCacheStats {
    return this.#plan.cache.stats()
  }

  #view(name: string, spec: S, source: Promise<V>): Promise<unknown> {
    if (spec.transform === undefined) return source
    return this.#views.of(name, source as Promise<RawValue | undefined>, spec.transform)
  }
}

function refTtl(component: string, ttl: Ttl): number {
  return durationOption(`${component}.ref`, 'ttl', ttl, 0, true)
}

function ttlOf(options: TtlOption | undefined): TtlCacheGetOptions | undefined {
  return options?.ttl === undefined ? undefined : { ttl: options.ttl }
}
