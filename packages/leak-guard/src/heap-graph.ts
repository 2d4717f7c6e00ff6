import { getHeapSnapshot } from 'node:v8'

interface RawSnapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] }
  }
  nodes: number[]
  edges: number[]
  strings: string[]
}

/**
 * A V8 heap snapshot as a graph: nodes and edges by index, each node's outgoing edges, and the
 * reverse index (who retains a node) that a search from a value back to what keeps it needs.
 */
export class HeapGraph {
  readonly nodeCount: number
  private readonly nodes: number[]
  readonly edges: number[]
  readonly strings: string[]
  private readonly nodeTypes: string[]
  private readonly edgeTypes: string[]
  private readonly nodeFields: number
  readonly edgeFields: number
  /** Index into `edges` of each node's first outgoing edge; node i's edges end where node i+1's begin. */
  readonly firstEdge: Uint32Array
  /** Reverse index: retainers of node i are `retainerEdge[retainerStart[i] .. retainerStart[i+1]]` (forward edge indexes). */
  readonly retainerStart: Uint32Array
  readonly retainerEdge: Uint32Array
  readonly retainerNode: Uint32Array

  constructor(raw: RawSnapshot) {
    const meta = raw.snapshot.meta
    this.nodes = raw.nodes
    this.edges = raw.edges
    this.strings = raw.strings
    this.nodeTypes = meta.node_types[0]
    this.edgeTypes = meta.edge_types[0]
    this.nodeFields = meta.node_fields.length
    this.edgeFields = meta.edge_fields.length
    this.nodeCount = this.nodes.length / this.nodeFields
    const edgeCountField = meta.node_fields.indexOf('edge_count')
    const toField = meta.edge_fields.indexOf('to_node')
    this.firstEdge = new Uint32Array(this.nodeCount + 1)
    const inDegree = new Uint32Array(this.nodeCount + 1)
    let edge = 0
    for (let node = 0; node < this.nodeCount; node++) {
      this.firstEdge[node] = edge
      edge += (this.nodes[node * this.nodeFields + edgeCountField] as number) * this.edgeFields
    }
    this.firstEdge[this.nodeCount] = edge
    const edgeTotal = this.edges.length / this.edgeFields
    const targets = new Uint32Array(edgeTotal)
    for (let e = 0; e < edgeTotal; e++) {
      const to = (this.edges[e * this.edgeFields + toField] as number) / this.nodeFields
      targets[e] = to
      inDegree[to + 1] = (inDegree[to + 1] as number) + 1
    }
    for (let node = 0; node < this.nodeCount; node++) {
      inDegree[node + 1] = (inDegree[node + 1] as number) + (inDegree[node] as number)
    }
    this.retainerStart = inDegree
    this.retainerEdge = new Uint32Array(edgeTotal)
    this.retainerNode = new Uint32Array(edgeTotal)
    const fill = this.retainerStart.slice(0, this.nodeCount)
    for (let node = 0; node < this.nodeCount; node++) {
      for (
        let e = this.firstEdge[node] as number;
        e < (this.firstEdge[node + 1] as number);
        e += this.edgeFields
      ) {
        const to = targets[e / this.edgeFields] as number
        const slot = fill[to] as number
        fill[to] = slot + 1
        this.retainerEdge[slot] = e
        this.retainerNode[slot] = node
      }
    }
  }

  type(node: number): string {
    return this.nodeTypes[this.nodes[node * this.nodeFields] as number] as string
  }

  name(node: number): string {
    return this.strings[this.nodes[node * this.nodeFields + 1] as number] as string
  }

  nameIndex(node: number): number {
    return this.nodes[node * this.nodeFields + 1] as number
  }

  edgeType(edge: number): string {
    return this.edgeTypes[this.edges[edge] as number] as string
  }

  /** An edge's name: a property or variable name, or an element index. */
  edgeName(edge: number): string | number {
    const nameOrIndex = this.edges[edge + 1] as number
    const type = this.edgeType(edge)
    return type === 'element' || type === 'hidden' ? nameOrIndex : (this.strings[nameOrIndex] as string)
  }

  edgeTarget(edge: number): number {
    return (this.edges[edge + 2] as number) / this.nodeFields
  }

  /**
   * Empties the snapshot's arrays. Its strings are every string of the heap when it was taken, the
   * request values of that moment among them: the next snapshot must not find them here, whatever
   * still refers to this graph (V8's feedback for the search's functions can).
   */
  dispose(): void {
    this.nodes.length = 0
    this.edges.length = 0
    this.strings.length = 0
  }

  /** The node an edge of the given name leads to, from a node. */
  child(node: number, name: string): number | undefined {
    for (
      let e = this.firstEdge[node] as number;
      e < (this.firstEdge[node + 1] as number);
      e += this.edgeFields
    ) {
      const edgeName = this.edgeName(e)
      if (edgeName === name) return this.edgeTarget(e)
    }
    return undefined
  }
}

/** Takes a heap snapshot of this process (V8 runs a full garbage collection first) and reads it. */
export async function takeHeapGraph(): Promise<HeapGraph> {
  const chunks: string[] = []
  const stream = getHeapSnapshot()
  stream.setEncoding('utf8')
  for await (const chunk of stream) chunks.push(chunk as string)
  return new HeapGraph(JSON.parse(chunks.join('')) as RawSnapshot)
}
