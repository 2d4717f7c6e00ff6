/**
 * State that must be one per process even when this package is loaded twice (an ESM and a
 * CommonJS copy, or two bundles): `pg` may call `onShutdown` through one copy while the handler's
 * middleware comes from another, and both must see the same handlers and the same pending work.
 */
export function processWide<T>(key: string, create: () => T): T {
  const symbol = Symbol.for(`@warmstart/lifecycle:${key}`)
  const holder = globalThis as unknown as Record<symbol, T | undefined>
  let value = holder[symbol]
  if (value === undefined) {
    value = create()
    Object.defineProperty(globalThis, symbol, { value, enumerable: false, configurable: true })
  }
  return value
}
