import { randomUUID } from 'node:crypto'
import { OUTPUT_MARK } from './finding.js'
import { type HeapGraph, takeHeapGraph } from './heap-graph.js'
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

/** Retainers that are not where a handler keeps data: the snapshot's roots, compiled code, hidden classes. */
const SKIPPED_RETAINER_TYPES = new Set(['synthetic', 'code', 'object shape'])
const STRING_TYPES = new Set(['string', 'concatenated string', 'sliced string'])

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
    // Nothing of this check may reach the next one's snapshot, even if V8 keeps this frame or the
    // search alive a while (it did, in CI): empty every list that holds request objects or matches.
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
   * closure of its own, seen in CI even after a collection), and the next snapshot would find the
   * request objects and values its targets and findings hold, and report the guard itself.
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
      for (let r = graph.retainerStart[node] as number; r < (graph.retainerStart[node + 1] as number); r++) {
        const edge = graph.retainerEdge[r] as number
        const retainer = graph.retainerNode[r] as number
        const type = graph.edgeType(edge)
        if (type === 'weak' || type === 'shortcut' || this.skipped[retainer] === 1) continue
        // V8 keeps the subject of the last regular expression match (RegExp.input) for the whole process: not the handler's doing.
        if (
          graph.edgeName(edge) === 'regexp_last_match_info' ||
          graph.name(retainer).includes('RegExpMatchInfo')
        )
          continue
        if ((type === 'context' || type === 'hidden') && this.isContext(retainer)) {
          this.anchorInContext(retainer, this.variableName(retainer, edge), node)
          continue
        }
        if (type === 'property' && graph.name(retainer) === 'global' && graph.type(retainer) === 'object') {
          this.record(`globalThis${propertyStep(graph.edgeName(edge) as string, this.reveals)}`, node)
          continue
        }
        if (this.target[retainer] !== -1 || SKIPPED_RETAINER_TYPES.has(graph.type(retainer))) continue
        if (this.isFrame(retainer) || this.isOutput(retainer)) continue
        this.target[retainer] = this.target[node] as number
        this.next[retainer] = node
        this.via[retainer] = edge
        queue.push(retainer)
      }
    }
    return { findings: this.findings, nodes: visited }
  }

  /**
   * Marks the probe, the guard's own objects and what the probe holds as not to be followed, and
   * returns the probe's list of request objects.
   */
  private markProbe(marker: string): number | undefined {
    const graph = this.graph
    let watched: number | undefined
    for (let node = 0; node < graph.nodeCount; node++) {
      if (graph.name(node) === 'global' && graph.type(node) === 'object') this.markWarmstartState(node)
      if (!STRING_TYPES.has(graph.type(node)) || graph.name(node) !== marker) continue
      for (let r = graph.retainerStart[node] as number; r < (graph.retainerStart[node + 1] as number); r++) {
        // The frames and contexts that pass the marker around hold it too: the probe is the holder of both lists.
        const probe = graph.retainerNode[r] as number
        const ownList = graph.child(probe, 'own')
        const watchedList = graph.child(probe, 'watched')
        if (ownList === undefined || watchedList === undefined) continue
        this.skipped[probe] = 1
        this.skipped[ownList] = 1
        this.skipped[watchedList] = 1
        this.forElements(ownList, (object) => {
          this.skipped[object] = 1
        })
        watched = watchedList
      }
    }
    return watched
  }

  /** warmstart's process-wide state (core's invocation tracker keeps the current request id) is the toolkit's, not the handler's. */
  private markWarmstartState(global: number): void {
    const graph = this.graph
    for (
      let e = graph.firstEdge[global] as number;
      e < (graph.firstEdge[global + 1] as number);
      e += graph.edgeFields
    ) {
      if (isWarmstartState(graph.edgeName(e))) this.skipped[graph.edgeTarget(e)] = 1
    }
  }

  private forElements(list: number, visit: (node: number) => void): void {
    const graph = this.graph
    for (
      let e = graph.firstEdge[list] as number;
      e < (graph.firstEdge[list + 1] as number);
      e += graph.edgeFields
    ) {
      if (graph.edgeType(e) === 'element') visit(graph.edgeTarget(e))
    }
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
      if (type !== 'object' && type !== 'closure' && type !== 'array') continue
      for (
        let e = graph.firstEdge[node] as number;
        e < (graph.firstEdge[node + 1] as number);
        e += graph.edgeFields
      ) {
        if (graph.edgeType(e) !== 'property') continue
        const match = matchName(graph.edges[e + 1] as number, graph.edgeName(e) as string)
        if (match !== null) start(node, { match, ending: ` → key "${redact(match.value as string)}"` })
      }
    }
    // Emptied now: V8 may keep this frame's context alive after the call (seen on Node 24), and a
    // later snapshot would find the request values it holds and report the guard itself.
    byName.clear()
  }

  /** The request objects: the probe's `watched` list holds them, in the order of `identities`. */
  private findWatched(watchedList: number, start: (node: number, target: Target) => void): void {
    let index = 0
    this.forElements(watchedList, (object) => {
      start(object, { match: this.identities[index++] as Match, ending: '' })
    })
  }

  /**
   * The variable a context slot holds. Snapshots name it on the edge when V8 knows it; otherwise (code
   * compiled by a test runner's or bundler's wrapper) the slot's index is the variable's index in the
   * context's ScopeInfo, which lists the names.
   */
  private variableName(context: number, edge: number): string {
    const graph = this.graph
    const name = graph.edgeName(edge)
    if (typeof name === 'string') return describeKey(name, this.reveals)
    const scopeInfo = graph.child(context, 'scope_info')
    if (scopeInfo !== undefined) {
      for (
        let e = graph.firstEdge[scopeInfo] as number;
        e < (graph.firstEdge[scopeInfo + 1] as number);
        e += graph.edgeFields
      ) {
        if (graph.edgeType(e) === 'hidden' && graph.edgeName(e) === name)
          return describeKey(graph.name(graph.edgeTarget(e)), this.reveals)
      }
    }
    return `slot ${name}`
  }

  private isContext(node: number): boolean {
    return this.graph.name(node) === 'system / Context'
  }

  /** An async function or generator still running: what its frame holds is not kept by the module. */
  private isFrame(node: number): boolean {
    // Cached: a large array retains many values, and its edges would be scanned once per value.
    let frame = this.frames[node] as number
    if (frame === 0) {
      frame =
        this.graph.type(node) === 'object' && this.graph.child(node, 'parameters_and_registers') !== undefined
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
    const extension = graph.child(context, 'extension')
    if (extension !== undefined && graph.name(extension) === 'system / SourceTextModule') return true
    const previous = graph.child(context, 'previous')
    return previous !== undefined && graph.name(previous) !== 'system / Context'
  }

  private isLiveFrameContext(context: number): boolean {
    const graph = this.graph
    for (
      let r = graph.retainerStart[context] as number;
      r < (graph.retainerStart[context + 1] as number);
      r++
    ) {
      if (this.isFrame(graph.retainerNode[r] as number)) return true
    }
    return false
  }

  /** The file a context belongs to, from a function created in it (or in a scope inside it). */
  private scriptOf(context: number, depth = 0): string {
    const graph = this.graph
    for (
      let r = graph.retainerStart[context] as number;
      r < (graph.retainerStart[context + 1] as number);
      r++
    ) {
      const holder = graph.retainerNode[r] as number
      const edgeName = graph.edgeName(graph.retainerEdge[r] as number)
      if (edgeName === 'context' && graph.type(holder) === 'closure') {
        const shared = graph.child(holder, 'shared')
        const script = shared === undefined ? undefined : this.scriptNode(shared)
        if (script !== undefined) return describeName(displayScript(graph.name(script)), this.reveals)
      }
      if (edgeName === 'previous' && depth < 3 && this.isContext(holder)) {
        const inner = this.scriptOf(holder, depth + 1)
        if (inner !== UNKNOWN_SCRIPT) return inner
      }
    }
    return UNKNOWN_SCRIPT
  }

  private scriptNode(shared: number): number | undefined {
    const graph = this.graph
    for (
      let e = graph.firstEdge[shared] as number;
      e < (graph.firstEdge[shared + 1] as number);
      e += graph.edgeFields
    ) {
      const name = graph.edgeName(e)
      if (typeof name === 'string' && name.startsWith('script')) {
        const script = graph.edgeTarget(e)
        // With coverage or a debugger on, the slot holds a DebugInfo instead: another function of the scope will name the file.
        const scriptName = graph.name(script)
        if (scriptName !== '' && !scriptName.startsWith('system / ')) return script
      }
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
      if (type === 'property') path += propertyStep(String(name), this.reveals)
      else if (type === 'element' && graph.name(node) === 'Array')
        path += `[${describeKey(name, this.reveals)}]`
      else if (type === 'internal' && name === 'table') path += ' → entry'
    }
    return path
  }
}

const UNKNOWN_SCRIPT = '(unknown file)'
/** How a heap snapshot names the edge of the output mark. */
const OUTPUT_EDGE = `<symbol ${OUTPUT_MARK}>`

/** warmstart's own process-wide state (core's registries) lives on globalThis under `Symbol.for('@warmstart/…')`. */
function isWarmstartState(name: string | number): boolean {
  return typeof name === 'string' && name.includes('@warmstart/core:')
}

function ending(match: Match): string {
  return match.how === 'substring'
    ? ` → a string containing "${redact(match.value as string)}"`
    : ` → "${redact(match.value as string)}"`
}
