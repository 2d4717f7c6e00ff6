import { types } from 'node:util'
import type { Match, Matcher } from './matcher.js'
import { MISSING, ownData } from './own-data.js'
import { describeKey, describeName, propertyStep, type Reveals, redact } from './redact.js'

/**
 * A Map, Set, array or dictionary with at most this many entries is read entirely at every check
 * (a ring buffer `recent[i % 300] = userId`, a fixed-size Map: entries replaced in place are seen).
 * A larger one is read in windows of this many entries, each check going on where the last stopped,
 * after the entries added since the last check and a probe by key for the request's values.
 */
export const REREAD_LIMIT = 2048
const MAX_DEPTH = 24
/**
 * The clock is read every this many nodes: a node costs well under a microsecond once the walker's
 * code is warm, so a check overruns its time by a few µs at most.
 */
const TIME_CHECK_EVERY = 32
/**
 * Nodes walked before the clock is first read (about 20 µs of warm walking): a walk that small always
 * ends, so that a check made slow by what is not the walk's (a cold start compiling the guard's code,
 * a collection, a loaded machine) does not cut a few nodes short and report them unread.
 */
const TIME_GRACE = 256
/** How many strings the memory of clean strings holds: once full it stops growing, and is never cleared (see matchString). */
export const CLEAN_MEMO_LIMIT = 200_000
/**
 * How many characters the memory of clean strings holds in all (4 to 8 MB), and the longest string
 * it keeps. It holds each string strongly: without a bound in characters, the large strings a
 * handler replaces between invocations (a cached page, a configuration blob) would stay alive in it
 * long after the handler dropped them. A longer string is matched again at each check, which costs
 * little (a scan at gigabytes a second) next to the memory it would pin.
 */
export const CLEAN_MEMO_CHARS = 4_000_000
const CLEAN_MEMO_LONGEST = 4_096
const NOTHING_REVEALED: Reveals = () => false

// The intrinsics the walk reads containers with, captured when the guard loads: a Map subclass's
// iterator, a patched prototype or a getter never runs in a check (the guard runs no user code).
const apply = Reflect.apply
const getOwnDescriptor = Object.getOwnPropertyDescriptor
const ownKeys = Object.keys
const hasOwn = Object.hasOwn
const isArray = Array.isArray
const mapEntries = Map.prototype.entries
const mapHas = Map.prototype.has
const mapSize = getOwnDescriptor(Map.prototype, 'size')?.get as (this: Map<unknown, unknown>) => number
const setValues = Set.prototype.values
const setHas = Set.prototype.has
const setSize = getOwnDescriptor(Set.prototype, 'size')?.get as (this: Set<unknown>) => number
const mapIteratorNext = Object.getPrototypeOf(new Map().entries()).next as () => IteratorResult<unknown>
const setIteratorNext = Object.getPrototypeOf(new Set().values()).next as () => IteratorResult<unknown>

/** Where a walk starts: a global, a registered root, or a module or closure variable, with the key/value pairs its inspector lists. */
export interface WalkRoot {
  /** A global's name, a registered root's, or a variable's place (`module handler.mjs: cache`). */
  readonly label: string
  /** True for a global: the label is a property of globalThis. */
  readonly global?: boolean
  readonly value: unknown
  readonly entries?: () => Iterable<readonly [unknown, unknown]>
  /** The root's revision, when its owner keeps one: unchanged since a clean reading, it is skipped. */
  readonly revision?: () => number | undefined
}

/** Internal slots no JavaScript reads synchronously, read for the walker (ScopeReader, through the inspector). */
export interface SlotReader {
  promiseResult(promise: Promise<unknown>): { readonly value: unknown } | undefined
  weakMapEntries(map: WeakMap<object, unknown>): [unknown, unknown][]
}

/** Promises and WeakMaps read per walk, at most (each costs a few inspector calls, about 0.1 ms). */
const SLOT_READS_PER_WALK = 32
/** The share of a walk's time one slot reading or one listing of keys may take and still be made at the next walk. */
const COSTLY_SHARE = 0.25
/** Readings past COSTLY_SHARE after which a promise or WeakMap is read no more, an object's keys listed no more. */
const COSTLY_READS = 2

/** A global's name, a root's name, a Map key, a property, an array index, an index of a sparse array (data), or fixed text. */
type StepKind = 'global' | 'label' | 'get' | 'property' | 'index' | 'sparse' | 'text'

export interface WalkFinding {
  readonly path: string
  readonly match: Match
}

export interface WalkResult {
  readonly findings: WalkFinding[]
  /** Keys and values visited: every one counts, primitives included. */
  readonly nodes: number
  /** The budget ran out before every root was read: the next walk goes on from where this one stopped. */
  readonly exhausted: boolean
}

/** Where the reading of a container stands between walks. */
interface Cursor {
  /** Map/Set: the live iterator the next window goes on with (entries added since are still met). */
  window: Iterator<unknown> | undefined
  /** Array/dictionary: the index the next window starts at. */
  index: number
  /** Entries read since the window last started from the beginning (Map/Set). */
  consumed: number
  /** Map/Set: a live iterator parked after the last entry read, which yields only entries added since. */
  tail: Iterator<unknown> | undefined
  /** Map/Set: entries whose reading was cut short, read first next time. */
  again: unknown[] | undefined
  /** The size when the tail was parked, or the array's length / dictionary's key count last time. */
  tailSize: number
  /**
   * Entries left in a pass cut short (a small container's every entry, a large one's window): the
   * next walk reads only those, so a pass that costs more than one walk's budget still ends, and
   * what comes after the container is read in its turn.
   */
  left: number | undefined
}

/**
 * The fast check: a walk of what outlives invocations (globals, registered roots, module and closure
 * variables), looking for request objects by identity and request values in strings, keys and numbers.
 *
 * The budget holds whatever is walked: every key and value visited counts as a node, primitives too,
 * and the clock is read every TIME_CHECK_EVERY nodes. A walk cut short says so (`exhausted`) and the
 * next one goes on where it stopped: every container keeps a cursor (a live Map/Set iterator, an
 * index) that its next reading starts from, so a walk that meets it again reads on from there.
 *
 * Reads never run user code: own data properties only (an accessor is skipped, not called), Maps and
 * Sets through the intrinsic iterators captured at load, proxies skipped (util.types.isProxy) before
 * anything else is asked of them.
 *
 * What keeps the cost near what changed:
 * - a string whose content was already seen, and did not match, before this invocation began cannot
 *   be this invocation's leak (strings are immutable: that content existed before the request did);
 * - a container of more than REREAD_LIMIT entries is not read entirely every time: it is probed by
 *   key for the request's values (Map keys, Set elements, dictionary keys), its new entries are read
 *   (a Map or Set through an iterator parked after its last entry, which meets only what was added
 *   since; an array from its former length), then a window of REREAD_LIMIT entries from its cursor,
 *   so that a value replaced in place is met within size / REREAD_LIMIT checks;
 * - an object or sparse array whose listing of keys has twice taken past a quarter of the time
 *   budget (V8 lists all of an object's keys or none) is listed no more: only probed by key;
 * - a registered root whose owner keeps a revision (a count of its writes) is skipped while the
 *   revision is the one it was last read clean at: nothing was added to it since.
 */
export class FastWalker {
  private readonly cursors = new WeakMap<object, Cursor>()
  /** Sparse arrays read by their keys: where that reading stands (the array's own cursor is its reading by index). */
  private readonly keyCursors = new WeakMap<object, Cursor>()
  /** Registered roots' listings cut short: the iterator the next walk goes on with, and the entry it was in. */
  private readonly listings = new WeakMap<
    object,
    { iterator: Iterator<readonly [unknown, unknown]>; again: readonly [unknown, unknown] | undefined }
  >()
  /** The revision each registered root was last read clean at. */
  private readonly cleanRevisions = new WeakMap<object, number>()
  /** Roots read to their end in the current round (walks until one that is not cut short): read again in it from half the budget at most. */
  private readInRound = new WeakSet<object>()
  private readonly clean = new Set<string>()
  /** The characters of the strings in `clean`. */
  private cleanChars = 0
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
  /** Matches of in-flight values seen so far: a root holding one is not marked as read clean. */
  private inFlightSeen = 0

  /** Promises and WeakMaps read through `slots` in this walk. */
  private slotReads = 0
  /**
   * Objects whose readings took more than COSTLY_SHARE of a walk's time, with how many did. Nothing
   * reads part of them: the inspector hands over every entry of a WeakMap at once, and V8 lists every
   * key of an object (Object.keys, for-in alike) or none, sorting a large dictionary's as it goes
   * (about 35 ms for 200,000 keys, 360 ms for a million), so a large one would cost that at every
   * check. After COSTLY_READS such readings (one could be a collection, or the inspector's first
   * connection) it is not read again: a WeakMap or promise is skipped, an object only probed by key
   * (see object); the deep check still follows them.
   */
  private readonly costly = new WeakMap<object, number>()
  /** The time budget of the current walk, in milliseconds. */
  private maxMs = 0
  /** WeakMaps with entries whose key the walk had not met yet when it read the map, with the path to the map. */
  private readonly weakEntries: {
    entries: [key: object, value: unknown][]
    kinds: StepKind[]
    keys: unknown[]
    depth: number
  }[] = []

  constructor(
    private readonly minLength: number,
    private readonly isOwn: (value: object) => boolean,
    private readonly slots?: SlotReader,
  ) {}

  /** Whether the memory of clean strings is full (it then stops growing; what it holds stays true). */
  get memoFull(): boolean {
    return this.clean.size >= CLEAN_MEMO_LIMIT || this.cleanChars >= CLEAN_MEMO_CHARS
  }

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
    this.slotReads = 0
    const started = performance.now()
    const deadline = started + maxMs
    this.maxNodes = maxNodes
    this.maxMs = maxMs
    this.deadline = deadline
    this.exhausted = false
    // Roots read again in this round stopped at their share of the budget, not at its end.
    let cutAtShare = false
    let againNodes = 0
    let againMs = 0
    try {
      // In the caller's order (where a leak is likeliest first). A root read to its end earlier in this
      // round is read again, for what this invocation left in it, but from at most half the budget in
      // all: the rest goes to the roots not read yet in this round, so a costly one does not starve
      // those after it (what a walk cut short had not read is where the containers' cursors stand).
      for (const root of roots) {
        const holder = objectOf(root.value)
        if (holder === undefined || !this.readInRound.has(holder)) {
          this.root(root)
          if (this.exhausted) break
          if (holder !== undefined) this.readInRound.add(holder)
          continue
        }
        const nodesLeft = Math.floor(maxNodes / 2) - againNodes
        const msLeft = maxMs / 2 - againMs
        if (nodesLeft <= 0 || msLeft <= 0) {
          cutAtShare = true
          continue
        }
        const nodesBefore = this.nodes
        const before = performance.now()
        this.maxNodes = Math.min(maxNodes, nodesBefore + nodesLeft)
        this.deadline = Math.min(deadline, before + msLeft)
        this.root(root)
        this.maxNodes = maxNodes
        this.deadline = deadline
        againNodes += this.nodes - nodesBefore
        againMs += performance.now() - before
        if (!this.exhausted) continue
        if (this.nodes >= maxNodes || performance.now() > deadline) break
        // Only the share is spent: the roots not read yet in the round still have the rest.
        this.exhausted = false
        cutAtShare = true
      }
      this.weakEntriesMetLate()
      // The round ends when every root was read to its end in it.
      if (!this.exhausted) this.readInRound = new WeakSet()
    } finally {
      this.weakEntries.length = 0
      // Nothing of this check stays with the walker: a closure it kept would hold the request's values.
      this.reveals = NOTHING_REVEALED
      this.visited.clear()
      this.stepKinds.length = 0
      this.stepKeys.length = 0
    }
    return { findings: this.findings, nodes: this.nodes, exhausted: this.exhausted || cutAtShare }
  }

  /** Whether the budget is spent, reading the clock only now and then. */
  private get spent(): boolean {
    return this.exhausted
  }

  private root(root: WalkRoot): void {
    const holder = objectOf(root.value)
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
    if (root.entries !== undefined && !this.spent) this.rootEntries(root.value, root.entries)
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

  /** Counts a node (a key or a value) against the budget; false once the budget is spent. */
  private spend(): boolean {
    if (this.exhausted) return false
    this.nodes++
    if (
      this.nodes > this.maxNodes ||
      (this.nodes >= TIME_GRACE && this.nodes % TIME_CHECK_EVERY === 0 && performance.now() > this.deadline)
    ) {
      this.nodes--
      this.exhausted = true
      return false
    }
    return true
  }

  /**
   * The memory of clean strings is sound for as long as it is kept (a content seen clean before a
   * request began cannot be that request's), so it is never cleared; once it holds CLEAN_MEMO_LIMIT
   * strings or CLEAN_MEMO_CHARS characters it stops growing, and strings not in it (and those longer
   * than CLEAN_MEMO_LONGEST) are matched again each time (the budget bounds that).
   */
  private matchString(value: string): Match | undefined {
    if (value.length < this.minLength || this.clean.has(value)) return undefined
    const match = this.matcher.string(value)
    if (match === undefined) this.remember(value)
    return match
  }

  private remember(clean: string): void {
    if (clean.length > CLEAN_MEMO_LONGEST || this.clean.size >= CLEAN_MEMO_LIMIT) return
    if (this.cleanChars + clean.length > CLEAN_MEMO_CHARS) return
    this.clean.add(clean)
    this.cleanChars += clean.length
  }

  private matchPrimitive(value: unknown): Match | undefined {
    if (typeof value === 'string') return this.matchString(value)
    if (typeof value === 'number' && Number.isSafeInteger(value)) return this.matchString(String(value))
    return undefined
  }

  /** A key of an object or a Map: counted, matched as a value, reported as the key. */
  private key(key: unknown): boolean {
    if (!this.spend()) return false
    if ((typeof key === 'object' || typeof key === 'function') && key !== null) {
      const match = this.matcher.object(key)
      if (match !== undefined) this.report(match, ' → key (the request object)')
      return true
    }
    const match = this.matchPrimitive(key)
    if (match !== undefined) this.report(match, ` → key "${redact(String(key))}"`)
    return true
  }

  /** A value: counted; a primitive is matched, an object matched by identity then read. */
  private visit(value: unknown, depth: number): void {
    if (!this.spend()) return
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
      const match = this.matchPrimitive(value)
      if (match !== undefined) this.report(match, '')
      return
    }
    const object = value as object
    // A proxy first: anything else asked of it (even instanceof) could run one of its traps.
    if (types.isProxy(object)) return
    const identity = this.matcher.object(object)
    if (identity !== undefined) {
      this.report(identity, '')
      return
    }
    if (depth > MAX_DEPTH || this.visited.has(object) || this.isOwn(object)) return
    this.visited.add(object)
    if (types.isPromise(object) || types.isWeakMap(object)) {
      this.slotted(object, depth)
      return
    }
    if (skipped(object)) return
    try {
      if (types.isMap(object)) this.map(object as Map<unknown, unknown>, depth)
      else if (types.isSet(object)) this.set(object as Set<unknown>, depth)
      else if (isArray(object)) this.array(object, depth)
      else this.object(object, depth)
    } catch {
      // An exotic host object that throws on a read: what it hides cannot be read, and the walk goes on.
    }
  }

  /**
   * A settled promise's value, and the entries of a WeakMap whose key the walk has met elsewhere
   * (an entry lives only as long as its key, so one whose key nothing else holds keeps nothing):
   * internal slots that only the inspector reads, SLOT_READS_PER_WALK objects per walk at most.
   */
  private slotted(object: object, depth: number): void {
    if (this.slots === undefined || this.slotReads >= SLOT_READS_PER_WALK || this.tooCostly(object)) return
    this.slotReads++
    const slots = this.slots
    if (types.isPromise(object)) {
      const settled = this.timedRead(object, () => slots.promiseResult(object as Promise<unknown>))
      if (settled === undefined) return
      this.step('text', ' → its settled value')
      this.visit(settled.value, depth + 1)
      this.unstep()
      return
    }
    // An entry whose key may be met later in the walk is read then (weakEntriesMetLate).
    const later: [key: object, value: unknown][] = []
    const entries = this.timedRead(object, () => slots.weakMapEntries(object as WeakMap<object, unknown>))
    for (const [key, value] of entries) {
      if (!this.spend()) break
      if (typeof key !== 'object' || key === null) continue
      if (this.visited.has(key)) this.weakValue(value, depth)
      else later.push([key, value])
    }
    if (later.length > 0)
      this.weakEntries.push({ entries: later, kinds: [...this.stepKinds], keys: [...this.stepKeys], depth })
  }

  private tooCostly(object: object): boolean {
    return (this.costly.get(object) ?? 0) >= COSTLY_READS
  }

  /** One reading (through the slot reader, or a listing of keys), timed: one that took past its share counts towards the object's last. */
  private timedRead<T>(object: object, read: () => T): T {
    const started = performance.now()
    const result = read()
    if (performance.now() - started > this.maxMs * COSTLY_SHARE)
      this.costly.set(object, (this.costly.get(object) ?? 0) + 1)
    return result
  }

  /**
   * An object's own keys, or undefined once listing them has proven costly (see `costly`). Only the
   * listing of an object read by windows before (one that had more than REREAD_LIMIT keys, or a
   * reading cut short: what has a cursor) is timed: timing every listing would double what a small
   * object costs, and only a large one can take past its share.
   */
  private listed(
    object: object,
    cursors: WeakMap<object, Cursor>,
    list: (object: object) => string[],
  ): string[] | undefined {
    if (!cursors.has(object)) return list(object)
    if (this.tooCostly(object)) return undefined
    return this.timedRead(object, () => list(object))
  }

  /** For an object too costly to list: only ask whether a request value is one of its keys. */
  private probeKeys(object: object): void {
    this.probe((key) => typeof key === 'string' && hasOwn(object, key), 'key')
  }

  private weakValue(value: unknown, depth: number): void {
    this.step('text', ' → its WeakMap value')
    this.visit(value, depth + 1)
    this.unstep()
  }

  /** The WeakMap entries whose key the walk met after their map, read from the map's place. */
  private weakEntriesMetLate(): void {
    for (const { entries, kinds, keys, depth } of this.weakEntries) {
      this.stepKinds.splice(0, this.stepKinds.length, ...kinds)
      this.stepKeys.splice(0, this.stepKeys.length, ...keys)
      for (const [key, value] of entries) {
        if (this.exhausted) return
        if (this.visited.has(key)) this.weakValue(value, depth)
      }
    }
  }

  private cursor(container: object, cursors = this.cursors): Cursor {
    let cursor = cursors.get(container)
    if (cursor === undefined) {
      cursor = {
        window: undefined,
        index: 0,
        consumed: 0,
        tail: undefined,
        tailSize: 0,
        again: undefined,
        left: undefined,
      }
      cursors.set(container, cursor)
    }
    return cursor
  }

  /** For a large container: only ask whether a request value or object is one of its keys. */
  private probe(has: (key: unknown) => boolean, element: string): void {
    for (const [key, match] of this.matcher.probes) {
      if (!this.spend()) return
      if (has(key))
        this.report(
          match,
          typeof key === 'object'
            ? ` → ${element} (the request object)`
            : ` → ${element} "${redact(String(key))}"`,
        )
    }
  }

  /** One Map entry or Set element, from an intrinsic iterator's result. */
  private mapEntry(entry: readonly [unknown, unknown], depth: number): void {
    if (!this.key(entry[0])) return
    this.step('get', entry[0])
    this.visit(entry[1], depth + 1)
    this.unstep()
  }

  private setElement(element: unknown, depth: number): void {
    this.step('text', ' → element')
    this.visit(element, depth + 1)
    this.unstep()
  }

  private map(map: Map<unknown, unknown>, depth: number): void {
    const size = apply(mapSize, map, []) as number
    this.iterated(
      map,
      size,
      depth,
      mapEntries,
      mapIteratorNext,
      (key) => apply(mapHas, map, [key]),
      'key',
      (v, d) => this.mapEntry(v as readonly [unknown, unknown], d),
    )
  }

  private set(set: Set<unknown>, depth: number): void {
    const size = apply(setSize, set, []) as number
    this.iterated(
      set,
      size,
      depth,
      setValues,
      setIteratorNext,
      (key) => apply(setHas, set, [key]),
      'element',
      (v, d) => this.setElement(v, d),
    )
  }

  /**
   * A Map or a Set. Small: every entry, starting where the last reading stopped. Large: a probe by
   * key, the entries added since the last reading (from the parked tail iterator), then a window.
   */
  private iterated(
    container: object,
    size: number,
    depth: number,
    iterate: () => Iterator<unknown>,
    next: () => IteratorResult<unknown>,
    has: (key: unknown) => boolean,
    element: string,
    read: (value: unknown, depth: number) => void,
  ): void {
    const cursor = this.cursor(container)
    const large = size > REREAD_LIMIT
    const again = cursor.again
    cursor.again = undefined
    const keep = (value: unknown): void => {
      if (cursor.again === undefined) cursor.again = [value]
      else cursor.again.push(value)
    }
    const take = (value: unknown): void => {
      read(value, depth)
      // Cut short inside this entry: the iterator has moved on, so the entry is kept to be read first next time.
      if (this.spent) keep(value)
    }
    if (again !== undefined)
      for (const value of again) {
        if (this.spent) keep(value)
        else take(value)
      }
    let tailRead = 0
    if (large) {
      this.probe(has, element)
      // New entries are inserted at the end: an iterator parked after the last entry meets only them.
      // It is advanced no more than the size grew, so it never runs past the end (and is never finished).
      if (cursor.tail !== undefined) {
        tailRead = Math.max(0, size - cursor.tailSize)
        while (cursor.tailSize < size && !this.spent) {
          const result = apply(next, cursor.tail, []) as IteratorResult<unknown>
          if (result.done === true) {
            cursor.tail = undefined
            break
          }
          cursor.tailSize++
          take(result.value)
        }
        if (cursor.tailSize > size) cursor.tailSize = size
      }
    }
    // Large: until the first reading has met every entry (the window then becomes the tail), as far
    // as the budget goes; after that a window, less what the new entries took of it. A pass cut short
    // goes on with what it had left.
    const count = passLength(
      cursor,
      !large
        ? size
        : cursor.tail === undefined
          ? Number.POSITIVE_INFINITY
          : Math.max(0, REREAD_LIMIT - tailRead),
      large,
    )
    let done = 0
    let restarted = false
    let firstReadingOver = false
    while (done < count && !this.spent) {
      if (cursor.window === undefined) {
        cursor.window = apply(iterate, container, []) as Iterator<unknown>
        cursor.consumed = 0
      }
      const result = apply(next, cursor.window, []) as IteratorResult<unknown>
      if (result.done === true) {
        cursor.window = undefined
        // At the end: go on from the beginning, once (a container emptied since has nothing more).
        if (restarted) break
        restarted = true
        continue
      }
      done++
      cursor.consumed++
      take(result.value)
      // The window has met as many entries as there are: it is at the end. After the first reading it
      // becomes the tail, and that reading is over.
      if (large && cursor.consumed >= size) {
        const first = cursor.tail === undefined
        if (first) {
          cursor.tail = cursor.window
          cursor.tailSize = size
        }
        cursor.window = undefined
        if (first) {
          firstReadingOver = true
          break
        }
      }
    }
    // Cut short: what is left, none when the last entry was met (it waits in `again`), so the next
    // reading ends the pass with it rather than starting another.
    cursor.left = !this.spent ? undefined : firstReadingOver ? 0 : count - done
  }

  private array(array: unknown[], depth: number): void {
    const length = array.length
    const large = length > REREAD_LIMIT
    // A small array read to its end needs no cursor: only a reading cut short, or a large array, keeps one.
    const cursor = large ? this.cursor(array) : this.cursors.get(array)
    let holes = 0
    let tailRead = 0
    if (large && cursor !== undefined) {
      // Appended entries first: a push is where a log or an audit array grows.
      let index = Math.min(cursor.tailSize, length)
      tailRead = length - index
      while (index < length && !this.spent) {
        const present = this.element(array, index, depth)
        if (this.spent) break
        index++
        if (!present && ++holes > REREAD_LIMIT) {
          this.sparse(array, depth)
          return
        }
      }
      cursor.tailSize = index
      if (this.spent) return
    }
    // The window, less what the new entries took of it (a first reading from 0 is all tail).
    const count = passLength(cursor, large ? Math.max(0, REREAD_LIMIT - tailRead) : length, large)
    let at = cursor?.index ?? 0
    let read = 0
    for (; read < count; read++) {
      if (at >= length) at = 0
      if (this.spent) break
      const present = this.element(array, at, depth)
      // Cut short inside this element: the next reading starts with it again.
      if (this.spent) break
      at++
      if (!present && ++holes > REREAD_LIMIT) {
        this.sparse(array, depth)
        return
      }
    }
    this.keepIndex(array, cursor, at, large, count - read)
  }

  /**
   * Where the next reading of an array or dictionary starts, and what is left of its pass: kept for a
   * large one or a reading cut short.
   */
  private keepIndex(
    container: object,
    cursor: Cursor | undefined,
    at: number,
    large: boolean,
    left: number,
    cursors = this.cursors,
  ): void {
    if (large || this.spent) {
      const kept = cursor ?? this.cursor(container, cursors)
      kept.index = at
      kept.left = this.spent && left > 0 ? left : undefined
    } else if (cursor !== undefined) cursors.delete(container)
  }

  /** One index of an array; false for a hole. */
  private element(array: unknown[], index: number, depth: number): boolean {
    const value = ownData(array, index)
    if (value === MISSING) {
      // A hole costs a node too: a loop over holes must not run past the budget.
      this.spend()
      return false
    }
    this.step('index', index)
    this.visit(value, depth + 1)
    this.unstep()
    return true
  }

  /**
   * A sparse array (`seen[userId] = true`): its length says nothing of what it holds, and a loop up
   * to it would spend the budget on holes. Read by its own keys as a dictionary is (a window from
   * where the last reading stopped), each index matched like a key (it may be the request's value);
   * its other properties are not read.
   */
  private sparse(array: unknown[], depth: number): void {
    const keys = this.listed(array, this.keyCursors, ownKeys)
    if (keys === undefined) {
      this.probeKeys(array)
      return
    }
    this.keyed(array, keys, this.keyCursors, (key) => {
      const index = Number(key)
      if (!Number.isInteger(index) || !this.key(index)) return
      const value = ownData(array, index)
      if (value === MISSING) return
      this.step('sparse', index)
      this.visit(value, depth + 1)
      this.unstep()
    })
  }

  /**
   * A plain object, a class instance, a function (its own properties: a class's statics). One whose
   * keys have proven too costly to list is only probed by key for the request's values
   * (`byId[userId] = ...` is still found); its values are left to the deep check.
   */
  private object(object: object, depth: number): void {
    const keys = this.listed(object, this.cursors, types.isNativeError(object) ? errorKeys : ownKeys)
    if (keys === undefined) {
      this.probeKeys(object)
      return
    }
    this.keyed(object, keys, this.cursors, (key) => this.property(object, key, depth))
  }

  /**
   * What is read by its list of keys. Small: every key, starting where the last reading stopped.
   * Large: a probe by key, the keys past its former count, then a window.
   */
  private keyed(
    container: object,
    keys: readonly string[],
    cursors: WeakMap<object, Cursor>,
    readKey: (key: string) => void,
  ): void {
    const large = keys.length > REREAD_LIMIT
    let tailRead = 0
    const cursor = large ? this.cursor(container, cursors) : cursors.get(container)
    if (large && cursor !== undefined) {
      this.probeKeys(container)
      // String keys keep their order of creation: the ones added since the last reading come last.
      const from = Math.min(cursor.tailSize, keys.length)
      tailRead = keys.length - from
      let index = from
      for (; index < keys.length; index++) {
        readKey(keys[index] as string)
        // Cut short inside this key: the next reading starts with it again.
        if (this.spent) break
      }
      cursor.tailSize = index
      if (this.spent) return
    }
    const count = passLength(cursor, large ? Math.max(0, REREAD_LIMIT - tailRead) : keys.length, large)
    let at = cursor?.index ?? 0
    let read = 0
    for (; read < count; read++) {
      if (at >= keys.length) at = 0
      if (this.spent) break
      readKey(keys[at] as string)
      if (this.spent) break
      at++
    }
    this.keepIndex(container, cursor, at, large, count - read, cursors)
  }

  private property(object: object, key: string, depth: number): void {
    if (!this.key(key)) return
    const value = ownData(object, key)
    if (value === MISSING) return
    this.step('property', key)
    this.visit(value, depth + 1)
    this.unstep()
  }

  /** What a registered root's inspector lists, going on where a listing cut short stopped. */
  private rootEntries(target: unknown, list: () => Iterable<readonly [unknown, unknown]>): void {
    const holder = objectOf(target)
    const kept = holder === undefined ? undefined : this.listings.get(holder)
    const iterator = kept?.iterator ?? list()[Symbol.iterator]()
    let again = kept?.again
    for (;;) {
      if (this.spent) {
        if (holder !== undefined) this.listings.set(holder, { iterator, again })
        return
      }
      let entry = again
      if (entry === undefined) {
        const result = iterator.next()
        if (result.done === true) break
        entry = result.value
      }
      this.mapEntry(entry, 0)
      // Cut short inside this entry: the iterator has moved on, so it is read first next time.
      again = this.spent ? entry : undefined
    }
    if (holder !== undefined) this.listings.delete(holder)
  }
}

function objectOf(value: unknown): object | undefined {
  return typeof value === 'object' && value !== null ? value : undefined
}

/**
 * How many entries a pass reads: what a pass cut short had left (no more than a small container now
 * holds), or else a whole pass of `whole`.
 */
function passLength(cursor: Cursor | undefined, whole: number, large: boolean): number {
  const left = cursor?.left
  if (left === undefined) return whole
  return large ? left : Math.min(left, whole)
}

/** An error's message and cause are its own properties, but not enumerable: read them with the rest. */
function errorKeys(error: object): string[] {
  const keys = ownKeys(error)
  for (const name of ['cause', 'message']) if (hasOwn(error, name) && !keys.includes(name)) keys.unshift(name)
  return keys
}

/**
 * Objects whose contents are not data a handler keeps, or cannot be read without running code:
 * binary buffers, weak references, WeakSets, iterators, module namespaces (a library's exports).
 * Promises and WeakMaps are read through the slot reader (see slotted). An
 * error is read (its message and own fields: a kept error is a way to leak).
 */
function skipped(value: object): boolean {
  return (
    ArrayBuffer.isView(value) ||
    types.isAnyArrayBuffer(value) ||
    types.isWeakSet(value) ||
    value instanceof WeakRef ||
    types.isRegExp(value) ||
    types.isDate(value) ||
    types.isMapIterator(value) ||
    types.isSetIterator(value) ||
    types.isGeneratorObject(value) ||
    types.isModuleNamespaceObject(value)
  )
}
