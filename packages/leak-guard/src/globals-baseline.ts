/**
 * The enumerable globals that exist when the guard's module is loaded: Node's own (`setTimeout`,
 * `fetch`, `performance`, ...) and the runtime's. Later, the fast check walks only the globals added
 * or replaced since then, which is where handler code puts what it shares.
 */
const baseline = new Map<string, unknown>()
for (const name of Object.keys(globalThis)) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, name)
  baseline.set(name, descriptor !== undefined && 'value' in descriptor ? descriptor.value : descriptor?.get)
}

/** The globals added or replaced since the guard was loaded, as name and value, read without calling getters. */
export function changedGlobals(): [string, unknown][] {
  const changed: [string, unknown][] = []
  for (const name of Object.keys(globalThis)) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, name)
    if (descriptor === undefined || !('value' in descriptor)) continue
    if (baseline.has(name) && baseline.get(name) === descriptor.value) continue
    changed.push([name, descriptor.value])
  }
  return changed
}
