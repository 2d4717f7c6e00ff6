import { types } from 'node:util'

/**
 * Rough byte costs of V8 values, for a budget rather than an audit: an object header, a pointer
 * per slot, two bytes per string character (V8 stores strings as UTF-16 unless they are one-byte,
 * so this errs high), the whole backing store of binary data.
 *
 * Conservative where it cannot see: what the walk cannot read counts as `UNSEEN_BYTES`, not as a
 * pointer, so that a budget in bytes still bounds memory when the estimate is blind. It cannot
 * see a class's private fields (`#data`), a promise's value, a Proxy's target, what a closure
 * captures, or what lies past the walk's depth. It can never see that a short string sliced from
 * a long one keeps the long one alive (V8 keeps slices of 13 characters and more as views of their
 * parent): pass `sizeOf`, or copy such strings before storing them.
 */
const HEADER = 16
const POINTER = 8
const NUMBER = 8
const BOOLEAN = 4
const STRING_HEADER = 12
/**
 * What lru-cache holds for each entry besides its key and value, in V8 on 64-bit Node: the entry of
 * its key Map (28 bytes a slot, and 2 to 4 slots a live entry once entries are replaced: V8 rehashes
 * a Map in place only while half its slots are free) and a slot in each of its index arrays (key,
 * value, next, previous, size; with TTLs start and TTL), 8 bytes each, grown by half at a time.
 * Heap growth after a full GC, less the keys, over caches of 10k to 260k entries of keys of a few
 * characters and values that take no heap (`true`): 113 to 201 bytes an entry, TTLs included
 * (docs/lru.md). Without it, a budget of entries of tens of bytes held 4 to 7 times its bytes.
 */
export const ENTRY_OVERHEAD_BYTES = 200
/** What a part the walk cannot see into counts: 1 MiB. */
export const UNSEEN_BYTES = 1024 * 1024
/** Items read of a larger array, Map, Set or object: the rest are counted as the average of these. */
const SAMPLE = 32
/** Deeper than this, a nested object counts as `UNSEEN_BYTES`. */
const MAX_DEPTH = 32
/** Objects read in one estimate; past them, what is left is counted at the average of those read. */
const MAX_NODES = 2048

function sizeOfString(value: string): number {
  return STRING_HEADER + 2 * value.length
}

// By prototype: whether its class (or a base class) declares private fields. A class's source
// text names them (`#data`); instances of such classes hold data no walk can reach.
const privateFields = new WeakMap<object, boolean>()
const PRIVATE_NAME = /#[\p{ID_Start}$_]/u

function hasPrivateFields(prototype: object): boolean {
  let known = privateFields.get(prototype)
  if (known === undefined) {
    known = false
    for (
      let p: object | null = prototype;
      p !== null && p !== Object.prototype;
      p = Object.getPrototypeOf(p)
    ) {
      const maker = Object.getOwnPropertyDescriptor(p, 'constructor')?.value as unknown
      if (typeof maker === 'function' && PRIVATE_NAME.test(Function.prototype.toString.call(maker))) {
        known = true
        break
      }
    }
    privateFields.set(prototype, known)
  }
  return known
}

// The built-ins' own accessors and iterators: a subclass's overrides are user code, never called.
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size')?.get as (
  this: Map<unknown, unknown>,
) => number
const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size')?.get as (this: Set<unknown>) => number

interface Walk {
  readonly seen: Set<object>
  /** Objects read, and the bytes of their own parts: the average stands for objects left unread. */
  objects: number
  objectBytes: number
}

/** Spread indexes of at most `limit` sampled among `length`. */
function sampleIndexes(length: number, limit: number): { readonly count: number; at(i: number): number } {
  const count = Math.min(length, limit)
  const step = count === 0 ? 0 : length / count
  return { count, at: (i) => Math.floor(i * step) }
}

/**
 * The bytes of `values` (the sampled items of a container of `length`), extrapolated to all of
 * them. `budget` objects may be read among them, shared out evenly.
 */
function sampled(length: number, budget: number, item: (i: number, budget: number) => number): number {
  const { count, at } = sampleIndexes(length, SAMPLE)
  if (count === 0) return 0
  let total = 0
  const share = budget / count
  for (let i = 0; i < count; i++) total += item(at(i), share)
  return (total * length) / count
}

/** One value's bytes, reading at most `budget` objects (fractions add up across siblings). */
function measure(walk: Walk, value: unknown, depth: number, budget: number): number {
  switch (typeof value) {
    case 'string':
      return sizeOfString(value)
    case 'number':
    case 'bigint':
      return NUMBER
    case 'boolean':
      return BOOLEAN
    case 'undefined':
    case 'symbol':
    case 'function':
      return POINTER
  }
  if (value === null) return POINTER
  const object = value as object
  if (walk.seen.has(object)) return POINTER
  walk.seen.add(object)
  if (depth > MAX_DEPTH || types.isProxy(object)) return UNSEEN_BYTES
  // Out of budget: counted at the average object read so far.
  if (budget < 1) return walk.objects === 0 ? HEADER : Math.max(HEADER, walk.objectBytes / walk.objects)
  walk.objects++
  const rest = budget - 1
  const next = depth + 1
  let own = HEADER
  let children = 0
  if (ArrayBuffer.isView(object)) {
    // A view keeps its whole buffer alive: a 16-byte view of 1 MB holds 1 MB.
    const buffer = object.buffer
    if (!walk.seen.has(buffer)) {
      walk.seen.add(buffer)
      own += buffer.byteLength
    }
  } else if (Array.isArray(object)) {
    const length = object.length
    own += POINTER * length
    children = sampled(length, rest, (i, share) => measure(walk, dataValue(object, i), next, share))
  } else {
    const prototype = Object.getPrototypeOf(object) as object | null
    // Plain objects (the common case) skip the checks for built-in kinds.
    const kind =
      prototype === Object.prototype || prototype === null ? undefined : builtIn(walk, object, next, rest)
    if (kind !== undefined) {
      own += kind.own
      children = kind.children
    } else {
      if (prototype !== Object.prototype && prototype !== null && hasPrivateFields(prototype))
        own += UNSEEN_BYTES
      const names = Object.getOwnPropertyNames(object)
      const symbols = Object.getOwnPropertySymbols(object)
      const length = names.length + symbols.length
      const key = (i: number): string | symbol =>
        i < names.length ? (names[i] as string) : (symbols[i - names.length] as symbol)
      own += POINTER * length
      children = sampled(length, rest, (i, share) => {
        const name = key(i)
        const bytes = typeof name === 'string' ? sizeOfString(name) : POINTER
        return bytes + measure(walk, dataValue(object, name), next, share)
      })
    }
  }
  walk.objectBytes += own
  return own + children
}

/** A property's value when it is a data property; a getter is user code, and what it returns is not held here. */
function dataValue(object: object, key: string | symbol | number): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(object, key)
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined
}

/** Own parts and sampled contents of a built-in kind; undefined for other objects. */
function builtIn(
  walk: Walk,
  object: object,
  depth: number,
  budget: number,
): { own: number; children: number } | undefined {
  if (types.isPromise(object)) return { own: UNSEEN_BYTES, children: 0 }
  if (types.isAnyArrayBuffer(object)) return { own: object.byteLength, children: 0 }
  if (types.isMap(object)) {
    const size = mapSize.call(object as Map<unknown, unknown>)
    const entries = firstEntries(Map.prototype.entries.call(object) as Iterator<unknown>, size)
    const children = sampled(size, budget, (i, share) => {
      const [key, entry] = entries[i] as [unknown, unknown]
      return measure(walk, key, depth, share / 2) + measure(walk, entry, depth, share / 2)
    })
    return { own: 2 * POINTER * size, children }
  }
  if (types.isSet(object)) {
    const size = setSize.call(object as Set<unknown>)
    const values = firstEntries(Set.prototype.values.call(object) as Iterator<unknown>, size)
    return {
      own: POINTER * size,
      children: sampled(size, budget, (i, share) => measure(walk, values[i], depth, share)),
    }
  }
  if (types.isDate(object)) return { own: NUMBER, children: 0 }
  // Entries live only as long as their keys, which are counted where they are held.
  if (types.isWeakMap(object) || types.isWeakSet(object)) return { own: 0, children: 0 }
  return undefined
}

/**
 * The entries a sample of `size` reads, by index: Maps and Sets cannot be indexed, so the sample
 * is spread over their first entries only when they are larger than that (bounded cost).
 */
function firstEntries(iterator: Iterator<unknown>, size: number): unknown[] {
  const { count, at } = sampleIndexes(size, SAMPLE)
  const wanted = new Map<number, number>()
  for (let i = 0; i < count; i++) wanted.set(at(i), i)
  const out: unknown[] = []
  const last = count === 0 ? -1 : at(count - 1)
  for (let i = 0; i <= last; i++) {
    const step = iterator.next()
    if (step.done === true) break
    if (wanted.has(i)) out[i] = step.value
  }
  return out
}

/**
 * Estimates the bytes a value holds: strings, numbers, booleans, the backing store of Buffers,
 * typed arrays and DataViews (all of it, even for a view of a few bytes), and arrays, Maps, Sets
 * and objects (own properties: non-enumerable and symbol-keyed too; getters are not called). Cheap
 * whatever the value's size: containers larger than 32 items are sampled, and at most 2048 objects
 * are read, shared out across the value's branches; objects past that count at the average of
 * those read. Each value reached twice is counted once (cycle-safe). What it cannot see counts as
 * `UNSEEN_BYTES` (1 MiB): see the notes at the top of this file, and give `sizeOf` when your values
 * are of such kinds.
 */
export function estimateSize(value: unknown): number {
  return measure({ seen: new Set(), objects: 0, objectBytes: 0 }, value, 0, MAX_NODES)
}
