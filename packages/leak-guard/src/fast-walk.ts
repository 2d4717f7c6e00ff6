import { types } from 'node:util'
import type { Match, Matcher } from './matcher.js'
import { describeKey, describeName, propertyStep, type Reveals, redact } from './redact.js'

/** A Map, Set, array or dictionary with more entries than this is re-read in full only when its size changes. */
export const LARGE_CONTAINER = 256
const MAX_DEPTH = 24
const TIME_CHECK_EVERY = 256
const CLEAN_MEMO_LIMIT = 100_000
const NOTHING_REVEALED: Reveals = () => false

/** Where a walk starts: a global or a registered root, with the key/value pairs its inspector lists. */
export interface WalkRoot {
  /** A global's name, or a registered root's. */
  readonly label: string
  /** True for a global: the label is a property of globalThis. */
  readonly global?: boolean
  readonly value: unknown
  readonly entries?: () => Iterable<readonly [unknown, unknown]>
  /** The root's revision, when its owner keeps one: unchanged since a clean reading, it is skipped. */
  readonly revision?: () => number | undefined
}

/** A global's name, a root's name, a Map key, a property, an array index, an index of a sparse array (data), or fixed text. */
type StepKind = 'global' | 'label' | 'get' | 'property' | 'index' | 'sparse' | 'text'

export interface WalkFinding {
  readonly path: string
  readonly match: Match
}

export interface WalkResult {
  readonly findings: WalkFinding[]
  readonly nodes: number
  readonly exhausted: boolean
}

/**
 * The fast check: a walk of what outlives invocations, looking for request objects by identity and
 * request values in strings, keys and numbers. Three memories keep its cost near the size of what
 * changed rather than of everything kept:
 * - a string whose content was already seen, and did not match, before this invocation began cannot
 *   be this invocation's leak (strings are immutable: that content existed before the request did);
 * - a large Map, Set, array or dictionary whose size is unchanged since its last complete reading is
 *   only probed by key for the request's values, not read again;
 * - when a large container (or a registered root's listing of more than LARGE_CONTAINER entries) is
 *   read again, an entry whose value is an object already read clean as an entry of a large container
 *   is not read again: only new entries and values replaced under an existing key are (a replaced
 *   value is another object). Keys and primitive values are still matched, cheaply, by the string
 *   memory. What is written later inside such an object is the deep check's to find;
 * - a registered root whose owner keeps a revision (a count of its writes) is skipped while the
 *   revision is the one it was last read clean at: nothing was added to it since.
 */
export class FastWalker {
  private readonly sizes = new WeakMap<object, number>()
  /** Objects read in full, without a match, as the value of an entry of a large container. */
  private readonly cleanEntries = new WeakSet<object>()
  /** How many entries each registered root's inspector listed last time. */
  private readonly listed = new WeakMap<object, number>()
  /** The revision each registered root was last read clean at. */
  private readonly cleanRevisions = new WeakMap<object, number>()
  private readonly clean = new Set<string>()
  private readonly visited = new Set<object>()
  /** The path to where the walk is, kept raw (kind and key per step) and written out only for a finding. */
  private readonly stepKinds: StepKind[] = []
  private readonly stepKeys: unknown[] = []
  private findings: WalkFinding[] = []
  private matcher!: Matcher
  private reveals: Reveals = NOTHING_REVEALED
  private nodes = 0
  private maxNodes = 0
  private deadline = 0
  private exhausted = false
  /** Matches of in-flight values seen so far: a container holding one is not marked as read. */
  private inFlightSeen = 0

  constructor(
    private readonly minLength: number,
    private readonly isOwn: (value: object) => boolean,
  ) {}

  /** `reveals` says which keys a path must not show in full (asked only when a finding is written). */
  walk(
    roots: readonly WalkRoot[],
    matcher: Matcher,
    reveals: Reveals,
    maxNodes: number,
    maxMs: number,
  ): WalkResult {
    this.matcher = matcher
    this.reveals = reveals
    this.findings = []
    this.nodes = 0
    this.maxNodes = maxNodes
    this.deadline = performance.now() + maxMs
    this.exhausted = false
    try {
      for (const root of roots) {
        this.root(root)
        if (this.exhausted) break
      }
    } finally {
      // Nothing of this check stays with the walker: a closure it kept would hold the request's values.
      this.reveals = NOTHING_REVEALED
      this.visited.clear()
      this.stepKinds.length = 0
      this.stepKeys.length = 0
      if (this.clean.size > CLEAN_MEMO_LIMIT) this.clean.clear()
    }
    return { findings: this.findings, nodes: this.nodes, exhausted: this.exhausted }
  }

  private root(root: WalkRoot): void {
    const holder = typeof root.value === 'object' && root.value !== null ? root.value : undefined
    const revision = holder === undefined ? undefined : root.revision?.()
    if (revision !== undefined && this.cleanRevisions.get(holder as object) === revision) return
    const findings = this.findings.length
    const inFlight = this.inFlightSeen
    // A global named after a request value (`globalThis[userId] = ...`) keeps that value as its name.
    if (root.global === true) {
      this.step('text', 'globalThis')
      this.key(root.label)
      this.unstep()
    }
    this.step(root.global === true ? 'global' : 'label', root.label)
    this.visit(root.value, 0)
    if (root.entries !== undefined) this.rootEntries(root.value, root.entries)
    this.unstep()
    if (holder === undefined) return
    const clean = !this.exhausted && this.findings.length === findings && this.inFlightSeen === inFlight
    if (revision !== undefined && clean) this.cleanRevisions.set(holder, revision)
    else this.cleanRevisions.delete(holder)
  }

  private report(match: Match, suffix: string): void {
    if (match.inFlight) {
      this.inFlightSeen++
      return
    }
    this.findings.push({ path: this.pathText() + suffix, match })
  }

  private step(kind: StepKind, key: unknown): void {
    this.stepKinds.push(kind)
    this.stepKeys.push(key)
  }

  private unstep(): void {
    this.stepKinds.pop()
    this.stepKeys.pop()
  }

  private pathText(): string {
    let text = ''
    for (let index = 0; index < this.stepKinds.length; index++) {
      const key = this.stepKeys[index]
      const kind = this.stepKinds[index]
      if (kind === 'global') text += `globalThis${propertyStep(key as string, this.reveals)}`
      else if (kind === 'label') text += describeName(key as string, this.reveals)
      else if (kind === 'text') text += key as string
      else if (kind === 'get') text += `.get(${describeKey(key, this.reveals, true)})`
      else if (kind === 'property') text += propertyStep(key as string, this.reveals)
      else if (kind === 'sparse') text += `[${describeKey(key, this.reveals, true)}]`
      else text += `[${describeKey(key, this.reveals)}]`
    }
    return text
  }

  /** Counts a node against the budget; false once the budget is spent. */
  private spend(): boolean {
    this.nodes++
    if (
      this.nodes > this.maxNodes ||
      (this.nodes % TIME_CHECK_EVERY === 0 && performance.now() > this.deadline)
    ) {
      this.exhausted = true
      return false
    }
    return true
  }

  private matchString(value: string): Match | undefined {
    if (value.length < this.minLength || this.clean.has(value)) return undefined
    const match = this.matcher.string(value)
    if (match === undefined) this.clean.add(value)
    return match
  }

  private matchPrimitive(value: unknown): Match | undefined {
    if (typeof value === 'string') return this.matchString(value)
    if (typeof value === 'number' && Number.isSafeInteger(value)) return this.matchString(String(value))
    return undefined
  }

  /** A key of an object or a Map: matched as a value, reported as the key. */
  private key(key: unknown): void {
    if ((typeof key === 'object' || typeof key === 'function') && key !== null) {
      const match = this.matcher.object(key)
      if (match !== undefined) this.report(match, ' → key (the request object)')
      return
    }
    const match = this.matchPrimitive(key)
    if (match !== undefined) this.report(match, ` → key "${redact(String(key))}"`)
  }

  private visit(value: unknown, depth: number): void {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
      const match = this.matchPrimitive(value)
      if (match !== undefined) this.report(match, '')
      return
    }
    const identity = this.matcher.object(value as object)
    if (identity !== undefined) {
      this.report(identity, '')
      return
    }
    const object = value as object
    if (depth > MAX_DEPTH || this.visited.has(object) || this.isOwn(object) || !this.spend()) return
    this.visited.add(object)
    if (skipped(value as object)) return
    const before = this.inFlightSeen
    try {
      if (typeof value === 'function') this.object(value as unknown as Record<string, unknown>, depth)
      else if (value instanceof Map) this.map(value, depth)
      else if (value instanceof Set) this.set(value, depth)
      else if (Array.isArray(value)) this.array(value, depth)
      else this.object(value as Record<string, unknown>, depth)
    } catch {
      // A getter or an exotic object that throws: what it hides cannot be read, and the walk goes on.
    }
    // Not a complete reading (an in-flight value stays to be looked for, or the budget ran out): read it again next time.
    if (this.inFlightSeen !== before || this.exhausted) this.sizes.delete(object)
  }

  /** An entry's value; in a large container, an object already read clean there is skipped. */
  private entry(value: unknown, depth: number, large: boolean): void {
    if (!large || typeof value !== 'object' || value === null) {
      this.visit(value, depth)
      return
    }
    if (this.cleanEntries.has(value)) return
    const fresh = !this.visited.has(value)
    const findings = this.findings.length
    const inFlight = this.inFlightSeen
    this.visit(value, depth)
    if (fresh && !this.exhausted && this.findings.length === findings && this.inFlightSeen === inFlight)
      this.cleanEntries.add(value)
  }

  /** What a registered root's inspector lists: large when its last listing was. */
  private rootEntries(target: unknown, list: () => Iterable<readonly [unknown, unknown]>): void {
    const holder = typeof target === 'object' && target !== null ? target : undefined
    const large = holder !== undefined && (this.listed.get(holder) ?? 0) > LARGE_CONTAINER
    const count = this.entries(list(), 0, large)
    if (holder !== undefined) this.listed.set(holder, count)
  }

  private unchanged(container: object, size: number): boolean {
    if (size <= LARGE_CONTAINER) return false
    if (this.sizes.get(container) === size) return true
    this.sizes.set(container, size)
    return false
  }

  /** For a large container read before: only ask whether a request value or object is one of its keys. */
  private probe(has: (key: unknown) => boolean, element: string): void {
    for (const [key, match] of this.matcher.probes) {
      if (has(key))
        this.report(
          match,
          typeof key === 'object'
            ? ` → ${element} (the request object)`
            : ` → ${element} "${redact(String(key))}"`,
        )
    }
  }

  private map(map: Map<unknown, unknown>, depth: number): void {
    if (this.unchanged(map, map.size)) {
      this.probe((key) => map.has(key), 'key')
      return
    }
    this.entries(map, depth, map.size > LARGE_CONTAINER)
  }

  /** Reads key/value pairs; returns how many there were. */
  private entries(entries: Iterable<readonly [unknown, unknown]>, depth: number, large: boolean): number {
    let count = 0
    for (const [key, value] of entries) {
      if (this.exhausted) break
      count++
      this.key(key)
      this.step('get', key)
      this.entry(value, depth + 1, large)
      this.unstep()
    }
    return count
  }

  private set(set: Set<unknown>, depth: number): void {
    if (this.unchanged(set, set.size)) {
      this.probe((key) => set.has(key), 'element')
      return
    }
    const large = set.size > LARGE_CONTAINER
    for (const element of set) {
      if (this.exhausted) return
      this.step('text', ' → element')
      this.entry(element, depth + 1, large)
      this.unstep()
    }
  }

  private array(array: unknown[], depth: number): void {
    if (this.unchanged(array, array.length)) return
    const large = array.length > LARGE_CONTAINER
    let holes = 0
    for (let index = 0; index < array.length; index++) {
      if (this.exhausted) return
      const value = array[index]
      if (value === undefined && !(index in array) && ++holes > LARGE_CONTAINER) {
        this.sparse(array, index, depth)
        return
      }
      this.step('index', index)
      this.entry(value, depth + 1, large)
      this.unstep()
    }
  }

  /**
   * A sparse array (`seen[userId] = true`): its length says nothing of what it holds, and a loop up
   * to it would spend the budget on holes. Read from `from` on by its own keys, each index matched
   * like a key (it may be the request's value). Writing below the length leaves the length as it was,
   * so such an array is read again every time rather than probed.
   */
  private sparse(array: unknown[], from: number, depth: number): void {
    this.sizes.delete(array)
    for (const key of Object.keys(array)) {
      const index = Number(key)
      if (!(index >= from && index < array.length)) continue
      if (this.exhausted || !this.spend()) return
      this.key(index)
      this.step('sparse', index)
      this.entry(array[index], depth + 1, true)
      this.unstep()
    }
  }

  private object(object: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(object)
    if (this.unchanged(object, keys.length)) {
      this.probe((key) => typeof key === 'string' && Object.hasOwn(object, key), 'key')
      return
    }
    const large = keys.length > LARGE_CONTAINER
    for (const key of keys) {
      if (this.exhausted) return
      this.key(key)
      this.step('property', key)
      this.entry(object[key], depth + 1, large)
      this.unstep()
    }
  }
}

/** Objects whose contents are not data a handler keeps: binary buffers, functions' internals, weak and async things. */
function skipped(value: object): boolean {
  return (
    ArrayBuffer.isView(value) ||
    types.isAnyArrayBuffer(value) ||
    types.isProxy(value) ||
    types.isPromise(value) ||
    types.isWeakMap(value) ||
    types.isWeakSet(value) ||
    value instanceof WeakRef ||
    types.isRegExp(value) ||
    types.isDate(value) ||
    types.isNativeError(value)
  )
}
