/**
 * State that must be one per process even when a package is loaded twice (an ESM and a CommonJS
 * copy, or two bundles): it lives on globalThis under the registered symbol `@warmstart/<key>`,
 * where key is `<package>:<name>`, so every copy finds the same value.
 */
export function processWide<T>(key: string, create: () => T): T {
  const symbol = Symbol.for(`@warmstart/${key}`)
  const holder = globalThis as unknown as Record<symbol, T | undefined>
  let value = holder[symbol]
  if (value === undefined) {
    value = create()
    Object.defineProperty(globalThis, symbol, { value, enumerable: false, configurable: true })
  }
  return value
}
