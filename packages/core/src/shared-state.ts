/**
 * State that must be one per process even when core is loaded twice (an ESM and a CommonJS copy,
 * or two bundles): it lives on globalThis under a registered symbol.
 */
export function processWide<T>(key: string, create: () => T): T {
  const symbol = Symbol.for(`@warmstart/core:${key}`)
  const holder = globalThis as unknown as Record<symbol, T | undefined>
  let value = holder[symbol]
  if (value === undefined) {
    value = create()
    Object.defineProperty(globalThis, symbol, { value, enumerable: false, configurable: true })
  }
  return value
}
