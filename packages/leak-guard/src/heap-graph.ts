import { getHeapSnapshot } from 'node:v8'
import { WarmstartError } from '@warmstart/core'

/**
 * Every name of V8's heap snapshot format the deep check relies on, in one place. None of them is a
 * documented API: they are what V8's HeapSnapshotGenerator writes (src/profiler/heap-snapshot-generator.cc),
 * and a V8 release may rename one. test/heap-graph.test.ts takes a snapshot on the Node that runs the
 * tests (CI runs 20 and 24) and fails when one of them is missing. What breaks when one is renamed:
 */
export const V8_NAMES = {
  /** The fields of a node and of an edge in the flat arrays: without them the snapshot cannot be read at all. */
  nodeFields: ['type', 'name', 'id', 'edge_count'],
  edgeFields: ['type', 'name_or_index', 'to_node'],
  nodeTypes: {
    /** Synthetic roots ("(GC roots)", "(Internalized strings)"): every path would end there. */
    synthetic: 'synthetic',
    /** Compiled code and constant pools, which hold literals: false findings "in code". */
    code: 'code',
    /** Hidden classes (maps): they hold property names, which would be reported as found in them. */
    objectShape: 'object shape',
    /** Strings: a value kept as a string would not be found at all. */
    string: 'string',
    concatenatedString: 'concatenated string',
    slicedString: 'sliced string',
    /** Objects, functions and arrays: a request value used as a property name would not be found. */
    object: 'object',
    closure: 'closure',
    array: 'array',
  },
  edgeTypes: {
    /** Weak references and V8's shortcuts: followed, they would report what nothing keeps alive. */
    weak: 'weak',
    shortcut: 'shortcut',
    /** A context slot named after its variable: a module or closure variable would not be named. */
    context: 'context',
    /** A context slot without a name (see variableName in deep-search.ts), and ScopeInfo's list of names. */
    hidden: 'hidden',
    property: 'property',
    element: 'element',
    internal: 'internal',
  },
  nodeNames: {
    /** The global object: globals would no longer be named `globalThis.x`. */
    global: 'global',
    /** A function's or a module's scope: module and closure variables would not be recognised. */
    context: 'system / Context',
    /** An ES module's record (a context's extension): a module variable would be called a closure variable. */
    sourceTextModule: 'system / SourceTextModule',
    /** V8's record of the last RegExp match (part of the name): its subject would be reported as a leak. */
    regExpMatchInfo: 'RegExpMatchInfo',
    /** The prefix of V8's internal objects' names: a DebugInfo would be taken for a script. */
    systemPrefix: 'system / ',
  },
  edgeNames: {
    /** From a context: its ScopeInfo (variable names), the enclosing context, the module record. */
    scopeInfo: 'scope_info',
    previous: 'previous',
    extension: 'extension',
    /** From a closure: its context, and its SharedFunctionInfo; from there (prefix) its script. */
    context: 'context',
    shared: 'shared',
    script: 'script',
    /** A suspended async function's or generator's frame: a running test would be reported as a holder. */
    parametersAndRegisters: 'parameters_and_registers',
    /** A Map's or WeakMap's hash table: a path through a Map would not say "→ entry". */
    table: 'table',
    /** The native context's last match record: see regExpMatchInfo. */
    regexpLastMatchInfo: 'regexp_last_match_info',
    /**
     * The edge V8 adds from a WeakMap entry's key, and from its table, to the entry's value (part of
     * the name): unrecognised, an entry whose key is gone with its request is reported as kept.
     */
    ephemeron: 'part of key',
  },
} as const

const EPHEMERON = /part of key \(.* @(\d+)\) -> value \(.* @\d+\) pair in WeakMap/

interface RawSnapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] }
  }
  nodes: number[]
  edges: number[]
  strings: string[]
}

/** An edge as the graph's iterators give it: `node` is the far end (the target going forward, the retainer going back). */
export interface Edge {
  /** The edge's index into the snapshot's edges, for `HeapGraph.edgeName` and the like. */
  readonly index: number
  readonly type: string
  /** A property or variable name, or the index of an element or a hidden slot. */
  readonly name: string | number
  readonly node: number
}

/**
 * A V8 heap snapshot as a graph: nodes and edges by index, each node's outgoing edges, and the
 * reverse index (who retains a node) that a search from a value back to what keeps it needs.
 * Every read of the raw arrays happens here; the search walks nodes with `edges` and `retainers`.
 */
export class HeapGraph {
  readonly nodeCount: number
  private readonly nodes: number[]
  private readonly edgeList: number[]
  private readonly strings: string[]
  private readonly nodeTypes: string[]
  private readonly edgeTypes: string[]
  private readonly nodeFields: number
  private readonly edgeFields: number
  private readonly idField: number
  /** Index into the edges of each node's first outgoing edge; node i's edges end where node i+1's begin. */
  private readonly firstEdge: Uint32Array
  /** Reverse index: retainers of node i are `retainerEdge[retainerStart[i] .. retainerStart[i+1]]` (forward edge indexes). */
  private readonly retainerStart: Uint32Array
  private readonly retainerEdge: Uint32Array
  private readonly retainerNode: Uint32Array

  constructor(raw: RawSnapshot) {
    const meta = raw.snapshot.meta
    this.nodes = raw.nodes
    this.edgeList = raw.edges
    this.strings = raw.strings
    this.nodeTypes = meta.node_types[0]
    this.edgeTypes = meta.edge_types[0]
    this.nodeFields = meta.node_fields.length
    this.edgeFields = meta.edge_fields.length
    this.idField = meta.node_fields.indexOf('id')
    this.nodeCount = this.nodes.length / this.nodeFields
    const edgeCountField = meta.node_fields.indexOf('edge_count')
    const toField = meta.edge_fields.indexOf('to_node')
    this.firstEdge = new Uint32Array(this.nodeCount + 1)
    const inDegree = new Uint32Array(this.nodeCount + 1)
    let edge = 0
    for (let node = 0; node < this.nodeCount; node++) {
      this.firstEdge[node] = edge
      edge += this.at(this.nodes, node * this.nodeFields + edgeCountField) * this.edgeFields
    }
    this.firstEdge[this.nodeCount] = edge
    const edgeTotal = this.edgeList.length / this.edgeFields
    const targets = new Uint32Array(edgeTotal)
    for (let e = 0; e < edgeTotal; e++) {
      const to = this.at(this.edgeList, e * this.edgeFields + toField) / this.nodeFields
      targets[e] = to
      inDegree[to + 1] = this.at(inDegree, to + 1) + 1
    }
    for (let node = 0; node < this.nodeCount; node++)
      inDegree[node + 1] = this.at(inDegree, node + 1) + this.at(inDegree, node)
    this.retainerStart = inDegree
    this.retainerEdge = new Uint32Array(edgeTotal)
    this.retainerNode = new Uint32Array(edgeTotal)
    const fill = this.retainerStart.slice(0, this.nodeCount)
    for (let node = 0; node < this.nodeCount; node++) {
      const end = this.at(this.firstEdge, node + 1)
      for (let e = this.at(this.firstEdge, node); e < end; e += this.edgeFields) {
        const to = this.at(targets, e / this.edgeFields)
        const slot = this.at(fill, to)
        fill[to] = slot + 1
        this.retainerEdge[slot] = e
        this.retainerNode[slot] = node
      }
    }
  }

  /** An index that is in range by construction (the snapshot's own counts). */
  private at(array: ArrayLike<number>, index: number): number {
    return array[index] as number
  }

  type(node: number): string {
    return this.nodeTypes[this.at(this.nodes, node * this.nodeFields)] as string
  }

  name(node: number): string {
    return this.strings[this.nameIndex(node)] as string
  }

  /** The index of a node's name among the snapshot's strings: equal names, equal indexes. */
  nameIndex(node: number): number {
    return this.at(this.nodes, node * this.nodeFields + 1)
  }

  /** The node's id, which edge names such as a WeakMap entry's refer to. */
  id(node: number): number {
    return this.at(this.nodes, node * this.nodeFields + this.idField)
  }

  edgeType(edge: number): string {
    return this.edgeTypes[this.at(this.edgeList, edge)] as string
  }

  /** An edge's name: a property or variable name, or an element's or a hidden slot's index. */
  edgeName(edge: number): string | number {
    const nameOrIndex = this.at(this.edgeList, edge + 1)
    const type = this.edgeType(edge)
    return type === V8_NAMES.edgeTypes.element || type === V8_NAMES.edgeTypes.hidden
      ? nameOrIndex
      : (this.strings[nameOrIndex] as string)
  }

  /** The index of a named edge's name among the snapshot's strings (meaningless for elements and hidden slots). */
  edgeNameIndex(edge: number): number {
    return this.at(this.edgeList, edge + 1)
  }

  edgeTarget(edge: number): number {
    return this.at(this.edgeList, edge + 2) / this.nodeFields
  }

  /** A node's outgoing edges, in the snapshot's order. */
  *edges(node: number): IterableIterator<Edge> {
    const end = this.at(this.firstEdge, node + 1)
    for (let e = this.at(this.firstEdge, node); e < end; e += this.edgeFields)
      yield { index: e, type: this.edgeType(e), name: this.edgeName(e), node: this.edgeTarget(e) }
  }

  /** The edges that lead to a node, each with the node it comes from. */
  *retainers(node: number): IterableIterator<Edge> {
    const end = this.at(this.retainerStart, node + 1)
    for (let r = this.at(this.retainerStart, node); r < end; r++) {
      const e = this.at(this.retainerEdge, r)
      yield { index: e, type: this.edgeType(e), name: this.edgeName(e), node: this.at(this.retainerNode, r) }
    }
  }

  /** The node an edge of the given name leads to, from a node. */
  child(node: number, name: string): number | undefined {
    for (const edge of this.edges(node)) if (edge.name === name) return edge.node
    return undefined
  }

  /**
   * Whether an edge is the one V8 adds from a WeakMap's table to an entry's value. The value is kept
   * by its key (the same name, on an edge from the key), not by the table: it is followed from the key only.
   */
  isEphemeronFromTable(edge: Edge): boolean {
    if (edge.type !== V8_NAMES.edgeTypes.internal || typeof edge.name !== 'string') return false
    const parsed = EPHEMERON.exec(edge.name)
    return parsed !== null && Number(parsed[1]) !== this.id(edge.node)
  }

  /**
   * Empties the snapshot's arrays. Its strings are every string of the heap when it was taken, the
   * request values of that moment among them: the next snapshot must not find them here, whatever
   * still refers to this graph (V8's feedback for the search's functions can).
   */
  dispose(): void {
    this.nodes.length = 0
    this.edgeList.length = 0
    this.strings.length = 0
  }

  /**
   * The names of V8_NAMES that this snapshot does not contain (for the test that guards against a
   * rename): node and edge types from its meta, the other names (some are parts of longer names)
   * among its strings.
   */
  missingNames(): string[] {
    const missing: string[] = []
    for (const type of Object.values(V8_NAMES.nodeTypes))
      if (!this.nodeTypes.includes(type)) missing.push(type)
    for (const type of Object.values(V8_NAMES.edgeTypes))
      if (!this.edgeTypes.includes(type)) missing.push(type)
    for (const name of [...Object.values(V8_NAMES.nodeNames), ...Object.values(V8_NAMES.edgeNames)])
      if (!this.strings.some((text) => text.includes(name))) missing.push(name)
    return missing
  }
}

/** Takes a heap snapshot of this process (V8 runs a full garbage collection first) and reads it. */
export async function takeHeapGraph(): Promise<HeapGraph> {
  const chunks: string[] = []
  const stream = getHeapSnapshot()
  stream.setEncoding('utf8')
  for await (const chunk of stream) chunks.push(chunk as string)
  const raw = JSON.parse(chunks.join('')) as RawSnapshot
  const missing = missingFields(raw)
  if (missing.length > 0)
    throw new WarmstartError(
      'ERR_LEAK_GUARD_SNAPSHOT',
      `leak-guard: this V8's heap snapshots lack the fields ${missing.join(', ')}: the deep check cannot read them`,
    )
  return new HeapGraph(raw)
}

/** The node and edge fields of V8_NAMES a snapshot's meta does not list. */
export function missingFields(raw: {
  snapshot: { meta: { node_fields: string[]; edge_fields: string[] } }
}): string[] {
  const meta = raw.snapshot.meta
  return [
    ...V8_NAMES.nodeFields.filter((field) => !meta.node_fields.includes(field)),
    ...V8_NAMES.edgeFields.filter((field) => !meta.edge_fields.includes(field)),
  ]
}
