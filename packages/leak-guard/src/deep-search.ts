import { randomUUID } from 'node:crypto'
import { isProcessWideName } from '@warmstart/core/internal'
import { OUTPUT_MARK } from './finding.js'
import { type Edge, type HeapGraph, takeHeapGraph, V8_NAMES } from './heap-graph.js'
import type { Match, Matcher } from './matcher.js'
import { describeKey, describeName, propertyStep, type Reveals, redact } from './redact.js'
import { displayScript } from './script-name.js'

export interface DeepFinding {
  readonly path: string
  readonly match: Match
}

export interface DeepResult {
  readonly findings: DeepFinding[]
  readonly nodes: number
}

const { nodeTypes: NODE, edgeTypes: EDGE, nodeNames: NAME, edgeNames: EDGE_NAME } = V8_NAMES
/** Retainers that are not where a handler keeps data: the snapshot's roots, compiled code, hidden classes. */
const SKIPPED_RETAINER_TYPES = new Set<string>([NODE.synthetic, NODE.code, NODE.objectShape])
const STRING_TYPES = new Set<string>([NODE.string, NODE.concatenatedString, NODE.slicedString])
/** Nodes whose property names are looked at: a request value used as a key is an edge's name, not a node. */
const KEYED_TYPES = new Set<string>([NODE.object, NODE.closure, NODE.array])

interface Target {
  readonly match: Match
  /** How the path ends: the value, or the key that matched. */
  readonly ending: string
}

/**
 * The deep check: a heap snapshot, searched backwards from every string equal to or containing a
 * request value (and every property named after one, and the request objects themselves) to the
 * module variable, closure variable or global that keeps it alive.
 *
 * To find its own objects and the request objects in the snapshot, the guard holds them for the
 * length of the snapshot in a probe marked with a random string. Paths through the guard's own state,
 * through `skipped` (the objects of requests still in flight, the runtime's records of requests) and
 * through live call frames (an async function still running, such as the test or the middleware
 * chain that called the handler) are not retention and are not followed. `reveals` says which names
 * a path must not show in full.
 */
export async function deepSearch(
  matcher: Matcher,
  skipped: readonly object[],
  reveals: Reveals,
): Promise<DeepResult> {
  const identities = matcher.identities()
  const probe = {
    // A flat string (randomUUID() returns a concatenation, whose content a snapshot does not show), to find the probe by.
    marker: Buffer.from(randomUUID()).toString('latin1'),
    watched: identities.map(([object]) => object),
    own: [...skipped],
  }
  let graph: HeapGraph | undefined
  let search: Search | undefined
  try {
    graph = await takeHeapGraph()
    search = new Search(
      graph,
      matcher,
      identities.map(([, match]) => match),
      reveals,
    )
    const result = search.run(probe.marker)
    return { findings: [...result.findings], nodes: result.nodes }
  } finally {
    // Nothing of this check may reach the next one's snapshot: V8 may keep this frame's context or
    // the search alive after the call (a closure's context, its feedback), and what they hold would
    // be reported as a leak of the guard's. Every list that holds request objects or matches is emptied.
    graph?.dispose()
    search?.forget()
    identities.length = 0
    probe.watched.length = 0
    probe.own.length = 0
  }
}

class Search {
  private readonly skipped: Uint8Array
  private readonly next: Int32Array
  private readonly via: Int32Array
  private readonly target: Int32Array
  private readonly targets: Target[] = []
  private readonly findings: DeepFinding[] = []
  private readonly reached: number[] = []
  /** Per node: 0 not yet known, 1 not a frame, 2 a running async function's or generator's frame. */
  private readonly frames: Uint8Array
  /** Per node: 0 not yet known, 1 not the guard's output, 2 a finding or a LeakFoundError. */
  private readonly outputs: Uint8Array

  constructor(
    private readonly graph: HeapGraph,
    private readonly matcher: Matcher,
    private identities: readonly Match[],
    private readonly reveals: Reveals,
  ) {
    this.skipped = new Uint8Array(graph.nodeCount)
    this.frames = new Uint8Array(graph.nodeCount)
    this.outputs = new Uint8Array(graph.nodeCount)
    this.next = new Int32Array(graph.nodeCount).fill(-1)
    this.via = new Int32Array(graph.nodeCount).fill(-1)
    this.target = new Int32Array(graph.nodeCount).fill(-1)
  }

  /**
   * Empties what this search matched and found: V8 may keep the search alive after it returns (a
   * closure's context outlives the call, even across a collection), and the next snapshot would find
   * the request objects and values its targets and findings hold, and report the guard itself.
   */
  forget(): void {
    this.targets.length = 0
    this.findings.length = 0
    this.identities = []
  }

  run(marker: string): DeepResult {
    const graph = this.graph
    const watched = this.markProbe(marker)
    const queue: number[] = []
    const start = (node: number, target: Target): void => {
      if (this.target[node] !== -1 || this.skipped[node] === 1) return
      this.targets.push(target)
      this.target[node] = this.targets.length - 1
      queue.push(node)
    }
    // The request objects first: a value inside a leaked event is reported as the event.
    if (watched !== undefined) this.findWatched(watched, start)
    this.findTargets(start)
    let visited = 0
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head] as number
      visited++
      for (const edge of graph.retainers(node)) this.follow(edge, node, queue)
    }
    return { findings: this.findings, nodes: visited }
  }

  /** One step back, from `node` to the retainer at the far end of `edge`: an anchor, a node to search from, or nothing. */
  private follow(edge: Edge, node: number, queue: number[]): void {
    const graph = this.graph
    const retainer = edge.node
    if (edge.type === EDGE.weak || edge.type === EDGE.shortcut || this.skipped[retainer] === 1) return
    // A WeakMap's entry is kept by its key, not by the map: the table's edge to the value is not followed.
    if (graph.isEphemeronFromTable(edge)) return
    // V8 keeps the subject of the last regular expression match (RegExp.input) for the whole process: not the handler's doing.
    if (edge.name === EDGE_NAME.regexpLastMatchInfo || graph.name(retainer).includes(NAME.regExpMatchInfo))
      return
    if ((edge.type === EDGE.context || edge.type === EDGE.hidden) && this.isContext(retainer)) {
      this.anchorInContext(retainer, this.variableName(retainer, edge), node)
      return
    }
    if (
      edge.type === EDGE.property &&
      graph.name(retainer) === NAME.global &&
      graph.type(retainer) === NODE.object
    ) {
      this.record(`globalThis${propertyStep(String(edge.name), this.reveals)}`, node)
      return
    }
    if (this.target[retainer] !== -1 || SKIPPED_RETAINER_TYPES.has(graph.type(retainer))) return
    if (this.isFrame(retainer) || this.isOutput(retainer)) return
    this.target[retainer] = this.target[node] as number
    this.next[retainer] = node
    this.via[retainer] = edge.index
    queue.push(retainer)
  }

  /**
   * Marks the probe, the guard's own objects and what the probe holds as not to be followed, and
   * returns the probe's list of request objects.
   */
  private markProbe(marker: string): number | undefined {
    const graph = this.graph
    let watched: number | undefined
    for (let node = 0; node < graph.nodeCount; node++) {
      if (graph.name(node) === NAME.global && graph.type(node) === NODE.object) this.markWarmstartState(node)
      if (!STRING_TYPES.has(graph.type(node)) || graph.name(node) !== marker) continue
      // The frames and contexts that pass the marker around hold it too: the probe is the holder of both lists.
      for (const { node: probe } of graph.retainers(node)) {
        const ownList = graph.child(probe, 'own')
        const watchedList = graph.child(probe, 'watched')
        if (ownList === undefined || watchedList === undefined) continue
        this.skipped[probe] = 1
        this.skipped[ownList] = 1
        this.skipped[watchedList] = 1
        for (const object of this.elements(ownList)) this.skipped[object] = 1
        watched = watchedList
      }
    }
    return watched
  }

  /** warmstart's process-wide state (core's invocation tracker keeps the current request id) is the toolkit's, not the handler's. */
  private markWarmstartState(global: number): void {
    for (const edge of this.graph.edges(global)) if (isWarmstartState(edge.name)) this.skipped[edge.node] = 1
  }

  private *elements(list: number): IterableIterator<number> {
    for (const edge of this.graph.edges(list)) if (edge.type === EDGE.element) yield edge.node
  }

  private findTargets(start: (node: number, target: Target) => void): void {
    const graph = this.graph
    const byName = new Map<number, Match | null>()
    const matchName = (index: number, name: string): Match | null => {
      let match = byName.get(index)
      if (match === undefined) {
        const found = this.matcher.string(name)
        match = found === undefined || found.inFlight ? null : found
        byName.set(index, match)
      }
      return match
    }
    for (let node = 0; node < graph.nodeCount; node++) {
      const type = graph.type(node)
      if (STRING_TYPES.has(type)) {
        const match = matchName(graph.nameIndex(node), graph.name(node))
        if (match !== null) start(node, { match, ending: ending(match) })
        continue
      }
      if (!KEYED_TYPES.has(type)) continue
      for (const edge of graph.edges(node)) {
        if (edge.type !== EDGE.property) continue
        const match = matchName(graph.edgeNameIndex(edge.index), edge.name as string)
        if (match !== null) start(node, { match, ending: ` → key "${redact(match.value as string)}"` })
      }
    }
    // Emptied now: V8 may keep this frame's context alive after the call, and a later snapshot
    // would find the request values it holds and report the guard itself.
    byName.clear()
  }

  /** The request objects: the probe's `watched` list holds them, in the order of `identities`. */
  private findWatched(watchedList: number, start: (node: number, target: Target) => void): void {
    let index = 0
    for (const object of this.elements(watchedList))
      start(object, { match: this.identities[index++] as Match, ending: '' })
  }

  /**
   * The variable a context slot holds. Snapshots name the slot's edge after the variable when V8
   * writes the context's locals by name; in a block context (the body of a function with non-simple
   * parameters: test runners' and some bundlers' module wrappers) the slots come as hidden edges
   * numbered in order, and V8 leaves out the slots that hold a small integer (a Smi is no heap
   * object). The context's ScopeInfo lists every local's name in slot order, so a hidden slot's
   * number is its variable's index only when no earlier slot held a small integer: with `let count = 0`
   * before it, the same number names the variable before. The names are aligned on the slots that
   * give themselves away (a function declaration's closure is named after its variable); a slot the
   * alignment cannot place names the variables it may be (`one of a, b`), never a wrong one.
   */
  private variableName(context: number, edge: Edge): string {
    if (typeof edge.name === 'string') return describeKey(edge.name, this.reveals)
    const graph = this.graph
    const scopeInfo = graph.child(context, EDGE_NAME.scopeInfo)
    const names: string[] = []
    if (scopeInfo !== undefined) {
      for (const field of graph.edges(scopeInfo)) {
        if (field.type !== EDGE.hidden) continue
        // The local names come first; what follows (the outer ScopeInfo, a module's record) is no string.
        if (!STRING_TYPES.has(graph.type(field.node))) break
        names.push(graph.name(field.node))
      }
    }
    const slots: Edge[] = []
    for (const slot of graph.edges(context)) if (slot.type === EDGE.hidden) slots.push(slot)
    const candidates = alignedNames(
      names,
      slots.map(({ node }) => (graph.type(node) === NODE.closure ? graph.name(node) : undefined)),
      slots.findIndex((slot) => slot.index === edge.index),
    )
    if (candidates.length === 0) return `a variable (slot ${edge.name})`
    const shown = candidates.map((name) => describeKey(name, this.reveals))
    return shown.length === 1 ? (shown[0] as string) : `one of ${shown.join(', ')}`
  }

  private isContext(node: number): boolean {
    return this.graph.name(node) === NAME.context
  }

  /** An async function or generator still running: what its frame holds is not kept by the module. */
  private isFrame(node: number): boolean {
    // Cached: a large array retains many values, and its edges would be scanned once per value.
    let frame = this.frames[node] as number
    if (frame === 0) {
      frame =
        this.graph.type(node) === NODE.object &&
        this.graph.child(node, EDGE_NAME.parametersAndRegisters) !== undefined
          ? 2
          : 1
      this.frames[node] = frame
    }
    return frame === 2
  }

  /** A finding or a LeakFoundError: it names its invocation's request id, as it must. */
  private isOutput(node: number): boolean {
    let output = this.outputs[node] as number
    if (output === 0) {
      output = this.graph.child(node, OUTPUT_EDGE) === undefined ? 1 : 2
      this.outputs[node] = output
    }
    return output === 2
  }

  private anchorInContext(context: number, variable: string, from: number): void {
    const moduleLevel = this.isModuleContext(context)
    if (!moduleLevel && this.isLiveFrameContext(context)) return
    const script = this.scriptOf(context)
    this.record(`${moduleLevel ? 'module' : 'closure in'} ${script}: ${variable}`, from)
  }

  /** Module scope: an ES module's context, or a top-level function's (CommonJS, bundles, test runners' wrappers). */
  private isModuleContext(context: number): boolean {
    const graph = this.graph
    const extension = graph.child(context, EDGE_NAME.extension)
    if (extension !== undefined && graph.name(extension) === NAME.sourceTextModule) return true
    const previous = graph.child(context, EDGE_NAME.previous)
    return previous !== undefined && graph.name(previous) !== NAME.context
  }

  private isLiveFrameContext(context: number): boolean {
    for (const { node } of this.graph.retainers(context)) if (this.isFrame(node)) return true
    return false
  }

  /** The file a context belongs to, from a function created in it (or in a scope inside it). */
  private scriptOf(context: number, depth = 0): string {
    const graph = this.graph
    for (const { name, node: holder } of graph.retainers(context)) {
      if (name === EDGE_NAME.context && graph.type(holder) === NODE.closure) {
        const shared = graph.child(holder, EDGE_NAME.shared)
        const script = shared === undefined ? undefined : this.scriptNode(shared)
        if (script !== undefined) return describeName(displayScript(graph.name(script)), this.reveals)
      }
      if (name === EDGE_NAME.previous && depth < 3 && this.isContext(holder)) {
        const inner = this.scriptOf(holder, depth + 1)
        if (inner !== UNKNOWN_SCRIPT) return inner
      }
    }
    return UNKNOWN_SCRIPT
  }

  private scriptNode(shared: number): number | undefined {
    const graph = this.graph
    for (const { name, node: script } of graph.edges(shared)) {
      if (typeof name !== 'string' || !name.startsWith(EDGE_NAME.script)) continue
      // With coverage or a debugger on, the slot holds a DebugInfo instead: another function of the scope will name the file.
      const scriptName = graph.name(script)
      if (scriptName !== '' && !scriptName.startsWith(NAME.systemPrefix)) return script
    }
    return undefined
  }

  /** One finding per place and request value: the shortest path the search found. */
  private record(anchor: string, from: number): void {
    const targetIndex = this.target[from] as number
    const target = this.targets[targetIndex] as Target
    // The first anchor reached is the shortest path that keeps the value alive; longer ones through shared objects add noise.
    if (this.reached[targetIndex] === 1) return
    this.reached[targetIndex] = 1
    this.findings.push({ path: anchor + this.steps(from) + target.ending, match: target.match })
  }

  private steps(from: number): string {
    const graph = this.graph
    let path = ''
    for (let node = from; this.next[node] !== -1; node = this.next[node] as number) {
      const edge = this.via[node] as number
      const type = graph.edgeType(edge)
      const name = graph.edgeName(edge)
      if (type === EDGE.property) path += propertyStep(String(name), this.reveals)
      else if (type === EDGE.element && graph.name(node) === 'Array')
        path += `[${describeKey(name, this.reveals)}]`
      else if (type === EDGE.internal && name === EDGE_NAME.table) path += ' → entry'
      else if (type === EDGE.internal && String(name).includes(EDGE_NAME.ephemeron))
        path += ' → its WeakMap value'
    }
    return path
  }
}

const UNKNOWN_SCRIPT = '(unknown file)'
/** How a heap snapshot names the edge of the output mark. */
const OUTPUT_EDGE = `<symbol ${OUTPUT_MARK}>`

/** warmstart's own process-wide state (see processWide) lives on globalThis under `Symbol.for('@warmstart/…')`. */
function isWarmstartState(name: string | number): boolean {
  return typeof name === 'string' && isProcessWideName(name)
}

function ending(match: Match): string {
  return match.how === 'substring'
    ? ` → a string containing "${redact(match.value as string)}"`
    : ` → "${redact(match.value as string)}"`
}

/**
 * The names a hidden context slot may hold (see Search.variableName): `names` are the scope's local
 * names in slot order, `slots` the context's hidden slots in order (a closure's name where the slot
 * holds one, else undefined; some locals have no slot), `position` the slot asked about. Slot i holds
 * local f(i), with f increasing and f(i) - i growing by one for each skipped local; a slot whose
 * closure is named after a local fixes f there. Empty when nothing fits (no names, or a slot past them).
 */
export function alignedNames(
  names: readonly string[],
  slots: readonly (string | undefined)[],
  position: number,
): string[] {
  if (position < 0 || names.length < slots.length) return []
  const skipped = names.length - slots.length
  let low = position
  let high = position + skipped
  for (let slot = 0; slot < slots.length; slot++) {
    const closure = slots[slot]
    if (closure === undefined) continue
    const local = names.indexOf(closure, slot)
    // A name used twice, or no local of that name within reach: this slot fixes nothing.
    if (local === -1 || local > slot + skipped || names.indexOf(closure, local + 1) !== -1) continue
    if (slot === position) return [closure]
    if (slot < position) low = Math.max(low, local + (position - slot))
    else high = Math.min(high, local - (slot - position))
  }
  return low > high ? [] : names.slice(low, high + 1)
}
