import { processWide } from './shared-state.js'

/** Lists what a long-lived value holds, as key/value pairs, for the leak guard to look into. */
export type RootInspector<T extends object = object> = (target: T) => Iterable<readonly [unknown, unknown]>

/** One registered long-lived value, as the leak guard reads it. */
export interface LongLivedRoot {
  readonly name: string
  /** The value, or undefined once it has been garbage collected. */
  target(): object | undefined
  /** Key/value pairs inside the value when it keeps them where a walk cannot see (private fields). */
  entries(): Iterable<readonly [unknown, unknown]>
}

interface Registration {
  readonly ref: WeakRef<object>
  readonly inspect: RootInspector | undefined
}

const registrations = processWide('core:roots', () => new Map<string, Registration>())
const collected = processWide(
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
 * cannot reach; it receives the value and must not capture it. Names are made unique (`name#2`).
 * Returns the function that unregisters.
 */
export function registerRoot<T extends object>(
  name: string,
  target: T,
  inspect?: RootInspector<T>,
): () => void {
  const unique = uniqueName(name)
  const ref = new WeakRef<object>(target)
  registrations.set(unique, { ref, inspect: inspect as RootInspector | undefined })
  collected.register(target, unique, ref)
  return () => {
    if (registrations.get(unique)?.ref === ref) registrations.delete(unique)
    collected.unregister(ref)
  }
}

/** The registered long-lived values that are still alive. */
export function longLivedRoots(): LongLivedRoot[] {
  const roots: LongLivedRoot[] = []
  for (const [name, { ref, inspect }] of registrations) {
    roots.push({
      name,
      target: () => ref.deref(),
      entries: () => {
        const target = ref.deref()
        return target !== undefined && inspect !== undefined ? inspect(target) : []
      },
    })
  }
  return roots
}
