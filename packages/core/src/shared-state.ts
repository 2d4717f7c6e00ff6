const PREFIX = '@warmstart/'

/**
 * State that must be one per process even when a package is loaded twice (an ESM and a CommonJS
 * copy, or two bundles): it lives on globalThis under the registered symbol `@warmstart/<key>`,
 * where key is `<package>:<name>`, so every copy finds the same value.
 */
export function processWide<T>(key: string, create: () => T): T {
  const symbol = Symbol.for(`${PREFIX}${key}`)
  const holder = globalThis as unknown as Record<symbol, T | undefined>
  let value = holder[symbol]
  if (value === undefined) {
    value = create()
    Object.defineProperty(globalThis, symbol, { value, enumerable: false, configurable: true })
  }
  return value
}

/**
 * Every object kept by `processWide`: warmstart's own bookkeeping (the invocation tracker, the
 * lifecycle's first invocation, the registries), which the leak guard does not report. In a
 * bundle these objects are also the bundle's module variables, so the guard cannot tell them from
 * the handler's by where they are held, only by what they are.
 */
export function processWideState(): object[] {
  const holder = globalThis as unknown as Record<symbol, unknown>
  const state: object[] = []
  for (const symbol of Object.getOwnPropertySymbols(globalThis)) {
    if (symbol.description?.startsWith(PREFIX) !== true) continue
    const value = holder[symbol]
    if ((typeof value === 'object' || typeof value === 'function') && value !== null) state.push(value)
  }
  return state
}

/** Whether a heap snapshot's edge name is that of a `processWide` symbol on globalThis. */
export function isProcessWideName(name: string): boolean {
  return name.includes(`<symbol ${PREFIX}`) || name.startsWith(PREFIX)
}
