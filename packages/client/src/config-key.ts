import { processWide } from '@warmstart/core/internal'

/**
 * Identities of the values in a config that are compared by reference (functions, class
 * instances, symbols). One table per process, shared by every copy of this package that is
 * loaded (ESM and CommonJS, two bundles), so that equal keys always mean the same values.
 */
interface IdentityTable {
  readonly objects: WeakMap<object, number>
  readonly symbols: Map<symbol, number>
  next: number
}

const identities = /* @__PURE__ */ processWide<IdentityTable>('client:config-identities', () => ({
  objects: new WeakMap(),
  symbols: new Map(),
  next: 0,
}))

function identityOf(value: object | symbol): string {
  const table: WeakMap<object, number> | Map<symbol, number> =
    typeof value === 'symbol' ? identities.symbols : identities.objects
  let id = (table as Map<object | symbol, number>).get(value)
  if (id === undefined) {
    id = ++identities.next
    ;(table as Map<object | symbol, number>).set(value, id)
  }
  return `@${id}`
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

function keyOf(value: unknown, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return `${value}n`
    case 'boolean':
    case 'undefined':
      return String(value)
    case 'symbol':
    case 'function':
      return identityOf(value)
  }
  if (value === null) return 'null'
  const object = value as object
  const isArray = Array.isArray(object) && Object.getPrototypeOf(object) === Array.prototype
  // Class instances (a request handler, a credentials object with methods) are compared by
  // identity; so is a cycle, which plain data cannot express anyway.
  if ((!isArray && !isPlainObject(object)) || ancestors.has(object)) return identityOf(object)
  ancestors.add(object)
  let key: string
  if (isArray) {
    key = `[${(object as unknown[]).map((item) => keyOf(item, ancestors)).join(',')}]`
  } else {
    const record = object as Record<string, unknown>
    const fields = Object.keys(record)
      .filter((name) => record[name] !== undefined)
      .sort()
      .map((name) => `${JSON.stringify(name)}:${keyOf(record[name], ancestors)}`)
    key = `{${fields.join(',')}}`
  }
  ancestors.delete(object)
  return key
}

/**
 * A string that is equal for two configs when they are deep-equal plain data (key order and
 * `undefined` fields ignored), with functions and class instances compared by identity.
 */
export function configKey(config: unknown): string {
  return keyOf(config, new Set())
}
