import { Session } from 'node:inspector'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ScopeReader } from '../src/module-scope.js'

const never = () => false
const later = () => performance.now() + 60_000

// Seventeen module-level functions, each closing over a scope of its own: one more than a check
// of these readers learns at once (new ScopeReader(16)).
function counterFactory(): () => number {
  let count = 0
  return () => ++count
}
const counters = Array.from({ length: 17 }, counterFactory)
const plain = () => 1

function holderOf(functions: readonly (() => number)[]): () => number {
  const [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q] = functions
  return () => [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, plain].length
}

describe('ScopeReader', () => {
  afterEach(() => vi.restoreAllMocks())

  it('reads a function watched twice once', () => {
    const reader = new ScopeReader()
    const handler = holderOf(counters)
    reader.watch(handler, 'handler.mjs')
    reader.watch(handler, 'handler.mjs')
    const labels = reader.roots(later(), never).map((root) => root.label)
    expect(new Set(labels).size).toBe(labels.length)
    expect(labels).toContain('closure holderOf(): a')
  })

  it("learns at most its number of functions' scopes per check, and the rest at the next one", () => {
    const reader = new ScopeReader(16)
    reader.watch(holderOf(counters), 'handler.mjs')
    const learned = () =>
      reader
        .roots(later(), never)
        .map((root) => root.label)
        .filter((label) => label.endsWith(': count'))
    // Each closure is named after the variable that holds it.
    const first = learned()
    expect(first).toHaveLength(16)
    expect(first).not.toContain('closure q(): count')
    expect(learned()).toEqual([...first, 'closure q(): count'])
  })

  it('learns no new scope once the deadline has passed, and still reads the watched function', () => {
    const reader = new ScopeReader()
    reader.watch(holderOf(counters), 'handler.mjs')
    const roots = reader.roots(performance.now() - 1, never)
    expect(roots.map((root) => root.label)).toContain('closure holderOf(): q')
    expect(roots.some((root) => root.label.endsWith(': count'))).toBe(false)
  })

  it("skips the guard's own functions and reads nothing of a function with no scope of its own twice", () => {
    const reader = new ScopeReader()
    reader.watch(holderOf(counters), 'handler.mjs')
    const own = new Set<object>(counters)
    const roots = reader.roots(later(), (value) => own.has(value))
    expect(roots.some((root) => root.label.endsWith(': count'))).toBe(false)
    expect(reader.roots(later(), (value) => own.has(value)).length).toBe(roots.length)
  })

  it('stops reading scopes, for good, when the inspector fails', () => {
    const reader = new ScopeReader()
    reader.watch(holderOf(counters), 'handler.mjs')
    vi.spyOn(Session.prototype, 'post').mockImplementation(() => {
      throw new Error('inspector gone')
    })
    expect(reader.watching).toBe(true)
    expect(reader.roots(later(), never)).toEqual([])
    expect(reader.watching).toBe(false)
    vi.restoreAllMocks()
    expect(reader.roots(later(), never)).toEqual([])
  })

  it('treats an inspector error answer as a failure', () => {
    const reader = new ScopeReader()
    reader.watch(plain, 'handler.mjs')
    vi.spyOn(Session.prototype, 'post').mockImplementation(((
      _method: string,
      _params: object,
      callback: (error: Error | null) => void,
    ) => callback(new Error('Runtime.evaluate failed'))) as never)
    expect(reader.roots(later(), never)).toEqual([])
    expect(reader.watching).toBe(false)
  })
})
