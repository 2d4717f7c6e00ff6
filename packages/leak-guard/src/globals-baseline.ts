/**
 * The globals the platform defines (Node's `setTimeout`, `fetch`, `performance`, `crypto`, the
 * Lambda runtime's `awslambda`), as they are when the guard's module is loaded. The fast check walks
 * every other global: those added later, and those that existed before the guard loaded but are data
 * a handler (or a module loaded before the guard) keeps there (`globalThis.cache = new Map()`). The
 * baseline is a global's content, not its name: a platform global replaced since is walked too.
 */
const PLATFORM_OBJECTS = new Set(['global', 'globalThis', 'performance', 'crypto', 'navigator', 'awslambda'])
const platform = new Map<string, unknown>()
for (const name of Object.keys(globalThis)) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, name)
  if (descriptor === undefined || !('value' in descriptor)) continue
  const value: unknown = descriptor.value
  // Functions (timers, fetch, constructors) and the platform's namespace objects hold no handler data.
  if (typeof value === 'function' || value === globalThis || PLATFORM_OBJECTS.has(name))
    platform.set(name, value)
}

/** The data globals that existed when the guard loaded, with their values then. */
const earlier = new Map<string, unknown>()
for (const name of Object.keys(globalThis)) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, name)
  if (descriptor !== undefined && 'value' in descriptor && !platform.has(name))
    earlier.set(name, descriptor.value)
}

/**
 * The globals a check walks, as name and value, read without calling getters: first those added or
 * replaced since the guard loaded (where a handler puts what it shares), then those that existed
 * before it and still hold the same value (walked last: a test runner's or a preloaded module's).
 */
export function walkedGlobals(): { changed: [string, unknown][]; earlier: [string, unknown][] } {
  const changed: [string, unknown][] = []
  const kept: [string, unknown][] = []
  for (const name of Object.keys(globalThis)) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, name)
    if (descriptor === undefined || !('value' in descriptor)) continue
    const value: unknown = descriptor.value
    if (value === globalThis || (platform.has(name) && platform.get(name) === value)) continue
    if (earlier.has(name) && earlier.get(name) === value) kept.push([name, value])
    else changed.push([name, value])
  }
  return { changed, earlier: kept }
}
