import { invalidOption } from './errors.js'
import { processWide } from './shared-state.js'

/** Lists what a long-lived value holds, as key/value pairs, for the leak guard to look into. */
export type RootInspector<T extends object = object> = (target: T) => Iterable<readonly [unknown, unknown]>

/**
 * How a long-lived value says whether it has changed: a number its owner increases on every write
 * that can add data to it (a new key, a replaced value), read without copying anything. Undefined
 * means "cannot tell right now" (a write may still land, such as a fetch in flight): read it again.
 */
export type RootRevision<T extends object = object> = (target: T) => number | undefined

/** Optional parts of a registration. */
export interface RegisterRootOptions<T extends object = object> {
  /**
   * The value's revision. A reader that found nothing in the value at one revision may skip it while
   * the revision stays the same. A write inside an entry's own object (`cache.get(k).owner = id`) is
   * not a write to the value and need not change it: such a reader does not see it.
   */
  readonly revision?: RootRevision<T>
  /**
   * The value's keys come from requests on purpose (a cache of per-tenant configuration keyed by the
   * tenant id): the leak guard does not report a key of the value's own entries, and still reports
   * request data found in their values (a tenant's entry holding a user's email).
   */
  readonly requestKeyed?: boolean
}

/** One registered long-lived value, as the leak guard reads it. */
export interface LongLivedRoot {
  readonly name: string
  /** The value, or undefined once it has been garbage collected. */
  target(): object | undefined
  /** Key/value pairs inside the value when it keeps them where a walk cannot see (private fields). */
  entries(): Iterable<readonly [unknown, unknown]>
  /** The value's revision, when its owner keeps one (see `RegisterRootOptions.revision`); else undefined. */
  revision(): number | undefined
  /** Whether its keys come from requests on purpose (see `RegisterRootOptions.requestKeyed`). */
  readonly requestKeyed: boolean
}

interface Registration {
  readonly ref: WeakRef<object>
  readonly inspect: RootInspector | undefined
  readonly revision: RootRevision | undefined
  readonly requestKeyed: boolean
}

const registrations = /* @__PURE__ */ processWide('core:roots', () => new Map<string, Registration>())
const collected = /* @__PURE__ */ processWide(
  'core:roots-finalizer',
  () => new FinalizationRegistry<string>((name) => registrations.delete(name)),
)

function uniqueName(name: string): string {
  if (!registrations.has(name)) return name
  let n = 2
  while (registrations.has(`${name}#${n}`)) n++
  return `${name}#${n}`
}

/**
 * Registers a value that outlives invocations (a cache, a map of clients) so that the leak guard
 * looks inside it after each invocation. The registry holds the value weakly: registering never
 * keeps anything alive. `inspect` lists the entries of a value whose contents a property walk
 * cannot reach; it receives the value and must not capture it. `options.revision` lets a reader skip
 * the value while it is unchanged (a cache that counts its writes); `options.requestKeyed` says that
 * its keys are request values on purpose. Names are made unique
 * (`name#2`). Returns the function that unregisters.
 */
export function registerRoot<T extends object>(
  name: string,
  target: T,
  inspect?: RootInspector<T>,
  options?: RegisterRootOptions<T>,
): () => void {
  const revision = options?.revision
  if (revision !== undefined && typeof revision !== 'function')
    throw invalidOption('registerRoot', 'revision', 'must be a function (target) => number')
  const requestKeyed = options?.requestKeyed ?? false
  if (typeof requestKeyed !== 'boolean')
    throw invalidOption('registerRoot', 'requestKeyed', 'must be a boolean')
  const unique = uniqueName(name)
  const ref = new WeakRef<object>(target)
  registrations.set(unique, {
    ref,
    inspect: inspect as RootInspector | undefined,
    revision: revision as RootRevision | undefined,
    requestKeyed,
  })
  collected.register(target, unique, ref)
  return () => {
    if (registrations.get(unique)?.ref === ref) registrations.delete(unique)
    collected.unregister(ref)
  }
}

/** The registered long-lived values that are still alive. */
export function longLivedRoots(): LongLivedRoot[] {
  const roots: LongLivedRoot[] = []
  for (const [name, { ref, inspect, revision, requestKeyed }] of registrations) {
    roots.push({
      name,
      requestKeyed,
      target: () => ref.deref(),
      entries: () => {
        const target = ref.deref()
        return target !== undefined && inspect !== undefined ? inspect(target) : []
      },
      revision: () => {
        const target = ref.deref()
        return target !== undefined && revision !== undefined ? revision(target) : undefined
      },
    })
  }
  return roots
}
