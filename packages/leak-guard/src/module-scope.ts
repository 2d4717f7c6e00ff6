import { existsSync } from 'node:fs'
import { Session } from 'node:inspector'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { WalkRoot } from './fast-walk.js'
import { MISSING, ownData } from './own-data.js'
import { displayScript } from './script-name.js'

/** Where a function is handed from the inspector back to the process (a symbol: no walk of globals sees it). */
const SINK_NAME = 'warmstart.leakGuard.scopes'
const SINK = Symbol.for(SINK_NAME)
const GROUP = 'warmstart-leak-guard'
const FETCH = `globalThis[Symbol.for(${JSON.stringify(SINK_NAME)})]`
const HAND_BACK = `function () { globalThis[Symbol.for(${JSON.stringify(SINK_NAME)})] = this }`
/**
 * Module-level functions whose scopes are learned in one check, at most (0.1 to 0.5 ms each, once
 * per function, and never past the check's share of its time budget): a bundle's module scope
 * holds every bundled library's functions, a hundred or more, and the first checks learn them all.
 */
const LEARN_PER_CHECK = 256

type AnyFunction = (...args: never[]) => unknown
type Sink = Record<symbol, unknown>

interface ScopeEntry {
  readonly description: string
  readonly object: object
}

interface Watched {
  readonly fn: AnyFunction
  readonly script: string
}

/**
 * Reads the module scope of the handler, and the scopes of the functions it closes over, in process
 * and without a heap snapshot: `node:inspector`'s Session (connected to this very process, no port,
 * no flag) answers `Runtime.getProperties` on a function with its `[[Scopes]]`, and
 * `Runtime.callFunctionOn` hands them back as objects, one property per variable (a copy, made at
 * each reading: a `let` assigned since is seen at the next one). In-process sessions answer
 * synchronously, so the fast check stays synchronous.
 *
 * What it reads: the scopes of each watched function (the handler: a module scope, and in a bundle
 * the bundle's, which holds every bundled module's top-level variables; the closures of the function,
 * such as Middy's around the handler), and the closure scopes of the functions held by those
 * variables (a memoiser's `const getProfile = memoize(load)` keeps its cache there), learned once per
 * function. What it skips: the global scope (globals are walked as such), the scopes of functions met
 * deeper in the walk (listeners, timers: the deep check's), other modules' scopes (a library's
 * module state is read only as far as the handler's variables reach into it), and the guard's own
 * objects (the walker skips them).
 */
export class ScopeReader {
  private session: Session | undefined
  private broken = false
  private readonly watched: Watched[] = []
  /** Module-level functions with closure scopes of their own (true), or none (false): what a function closes over never changes. */
  private readonly closures = new WeakMap<AnyFunction, boolean>()

  constructor(private readonly learnPerCheck = LEARN_PER_CHECK) {}

  /** Reads `fn`'s scopes at every check; `script` names its module in paths. */
  watch(fn: AnyFunction, script: string): void {
    if (this.watched.some((watched) => watched.fn === fn)) return
    this.watched.push({ fn, script })
  }

  get watching(): boolean {
    return this.watched.length > 0 && !this.broken
  }

  /** The variables of the watched functions' scopes, as roots of the walk, read until `deadline` (performance.now()). */
  roots(deadline: number, isOwn: (value: object) => boolean): WalkRoot[] {
    const roots: WalkRoot[] = []
    if (!this.watching) return roots
    const labels = new Set<string>()
    const add = (label: string, value: unknown): void => {
      if (labels.has(label)) return
      labels.add(label)
      roots.push({ label, value })
    }
    let learned = 0
    try {
      for (const { fn, script } of this.watched) {
        const functions: [string, AnyFunction, boolean][] = []
        for (const scope of this.scopes(fn)) {
          const prefix = scopeName(scope.description, script)
          if (prefix === undefined) continue
          for (const [name, value] of variables(scope.object)) {
            if (typeof value === 'function' && value !== fn && !isOwn(value as object))
              functions.push([name, value as AnyFunction, scope.description !== 'Module'])
            add(`${prefix}: ${name}`, value)
          }
        }
        for (const [name, inner, enclosed] of byLikelyClosure(functions)) {
          const known = this.closures.get(inner)
          if (known === false) continue
          if (known === undefined && (learned >= this.learnPerCheck || performance.now() > deadline)) continue
          if (known === undefined) learned++
          let own = false
          for (const scope of this.scopes(inner)) {
            // The module of a function a closure of the handler holds (Middy's or wrap()'s inner
            // handler): that is the handler's own module, named after the handler's script.
            if (scope.description === 'Module' && enclosed) {
              own = true
              for (const [variable, value] of variables(scope.object))
                if (typeof value !== 'function') add(`module ${script}: ${variable}`, value)
              continue
            }
            if (!scope.description.startsWith('Closure') && !scope.description.startsWith('Block')) continue
            own = true
            for (const [variable, value] of variables(scope.object))
              add(`closure ${name}(): ${variable}`, value)
          }
          this.closures.set(inner, own)
        }
      }
    } catch {
      // No inspector in this process (a build without it, a worker it cannot reach): globals and roots only.
      this.broken = true
    }
    return roots
  }

  private post<T>(method: string, params: object): T {
    if (this.session === undefined) {
      this.session = new Session()
      this.session.connect()
    }
    let answer: T | undefined
    let failure: unknown
    this.session.post(method, params, (error, result) => {
      failure = error
      answer = result as T
    })
    if (failure !== null && failure !== undefined) throw failure
    if (answer === undefined) throw new Error(`${method} did not answer synchronously`)
    return answer
  }

  /** A function's `[[Scopes]]`, innermost first, as objects of this process. */
  private scopes(fn: AnyFunction): ScopeEntry[] {
    const handed = this.internal(fn, '[[Scopes]]')
    // The inspector's list has no prototype (no iterator): read by index, as own data only.
    const entries: ScopeEntry[] = []
    if (!Array.isArray(handed)) return entries
    for (let index = 0; index < handed.length; index++) {
      const entry = ownValue(handed, index)
      const description = ownValue(entry, 'description')
      const object = ownValue(entry, 'object')
      if (typeof description === 'string' && typeof object === 'object' && object !== null)
        entries.push({ description, object })
    }
    return entries
  }

  /**
   * What a settled promise holds (`[[PromiseResult]]`), which no JavaScript can read synchronously;
   * undefined while it is pending, or when the inspector cannot say.
   */
  promiseResult(promise: Promise<unknown>): { readonly value: unknown } | undefined {
    if (this.broken) return undefined
    try {
      const [state, result] = this.internals(promise, ['[[PromiseState]]', '[[PromiseResult]]'])
      return state === 'pending' ? undefined : { value: result }
    } catch {
      this.broken = true
      return undefined
    }
  }

  /** A WeakMap's entries (`[[Entries]]`), as key and value pairs, or none when the inspector cannot say. */
  weakMapEntries(map: WeakMap<object, unknown>): [unknown, unknown][] {
    if (this.broken) return []
    try {
      const [handed] = this.internals(map, ['[[Entries]]'])
      const pairs: [unknown, unknown][] = []
      if (!Array.isArray(handed)) return pairs
      for (let index = 0; index < handed.length; index++) {
        const entry = ownValue(handed, index)
        pairs.push([ownValue(entry, 'key'), ownValue(entry, 'value')])
      }
      return pairs
    } catch {
      this.broken = true
      return []
    }
  }

  private internal(object: object, name: string): unknown {
    return this.internals(object, [name])[0]
  }

  /**
   * Internal properties of an object of this process, by name, as values of this process: the
   * object is handed to the inspector through a symbol on globalThis, and each internal property
   * handed back by a function the inspector calls on it.
   */
  private internals(object: object, names: readonly string[]): unknown[] {
    const sink = globalThis as unknown as Sink
    sink[SINK] = object
    try {
      const evaluated = this.post<{ result: { objectId?: string } }>('Runtime.evaluate', {
        expression: FETCH,
        objectGroup: GROUP,
        silent: true,
      })
      if (evaluated.result.objectId === undefined) return []
      const properties = this.post<{
        internalProperties?: { name: string; value?: { objectId?: string; value?: unknown } }[]
      }>('Runtime.getProperties', {
        objectId: evaluated.result.objectId,
        // Without accessorPropertiesOnly: with it the inspector leaves the internal properties out.
        ownProperties: true,
      })
      return names.map((name) => {
        const value = properties.internalProperties?.find((p) => p.name === name)?.value
        if (value === undefined) return undefined
        if (value.objectId === undefined) return value.value
        sink[SINK] = undefined
        this.post('Runtime.callFunctionOn', {
          objectId: value.objectId,
          functionDeclaration: HAND_BACK,
          objectGroup: GROUP,
          silent: true,
        })
        return sink[SINK]
      })
    } finally {
      delete sink[SINK]
      // The inspector holds what it handed out until released: nothing of a check may stay with it.
      this.post('Runtime.releaseObjectGroup', { objectGroup: GROUP })
    }
  }
}

/** ownData of anything the inspector hands back, with undefined for what is not there or not data. */
function ownValue(object: unknown, key: string | number): unknown {
  if ((typeof object !== 'object' && typeof object !== 'function') || object === null) return undefined
  const value = ownData(object, key)
  return value === MISSING ? undefined : value
}

/**
 * The order functions are learned in, a few per check: first the ones a closure of the handler
 * holds (Middy's inner handler, whose module is the handler's), then module variables holding a
 * function made at run time (`const track = makeTracker()`: an arrow or a function named other than
 * its variable, the shape of a closure with state of its own), then declared functions and classes
 * (a bundle's module scope holds every bundled library's: hundreds, and seldom a closure of state).
 */
export function byLikelyClosure(
  functions: readonly [string, AnyFunction, boolean][],
): [string, AnyFunction, boolean][] {
  const made: [string, AnyFunction, boolean][] = []
  const declared: [string, AnyFunction, boolean][] = []
  const enclosed: [string, AnyFunction, boolean][] = []
  for (const entry of functions) {
    const [variable, fn, inClosure] = entry
    if (inClosure) enclosed.push(entry)
    else if (ownValue(fn, 'name') !== variable) made.push(entry)
    else declared.push(entry)
  }
  return [...enclosed, ...made, ...declared]
}

/** How a scope is named on a path, or undefined for one that is not read (the global scope). */
function scopeName(description: string, script: string): string | undefined {
  if (description === 'Global') return undefined
  if (description === 'Module') return `module ${script}`
  if (description === 'Script') return 'script scope'
  const closure = /^Closure \((.+)\)$/.exec(description)
  if (closure !== null) return `closure ${closure[1]}()`
  return description.toLowerCase()
}

/** A scope object's variables, read as own data properties (the inspector's copy has no accessors, but nothing is called all the same). */
function variables(scope: object): [string, unknown][] {
  const found: [string, unknown][] = []
  for (const name of Object.keys(scope)) {
    const value = ownData(scope, name)
    if (value !== MISSING) found.push([name, value])
  }
  return found
}

/**
 * The handler Lambda runs, found as the runtime finds it: `_HANDLER` (`index.handler`) under
 * `LAMBDA_TASK_ROOT`, tried as .mjs, .js and .cjs. Loading it again gives the module already loaded
 * (modules are cached), so this runs none of its code a second time. Undefined outside Lambda.
 */
export async function lambdaHandler(): Promise<{ fn: AnyFunction; script: string } | undefined> {
  const root = process.env.LAMBDA_TASK_ROOT
  const handler = process.env._HANDLER
  if (root === undefined || handler === undefined) return undefined
  const dot = handler.lastIndexOf('.')
  if (dot <= 0) return undefined
  const base = join(root, handler.slice(0, dot))
  const file = ['.mjs', '.js', '.cjs'].map((extension) => base + extension).find((path) => existsSync(path))
  if (file === undefined) return undefined
  const loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  const name = handler.slice(dot + 1)
  const fn = loaded[name] ?? (loaded.default as Record<string, unknown> | undefined)?.[name]
  return typeof fn === 'function' ? { fn: fn as AnyFunction, script: displayScript(file) } : undefined
}

/** The script that called into the guard (the first frame of the stack outside the guard's own file). */
export function callerScript(): string {
  const files = (new Error().stack ?? '')
    .split('\n')
    .slice(1)
    .map((line) => /\(?((?:file:\/\/|\/)[^()\s]+?):\d+:\d+\)?$/.exec(line.trim())?.[1])
    .filter((file): file is string => file !== undefined)
  const own = files[0]
  const caller = files.find((file) => file !== own) ?? own
  return caller === undefined ? 'handler' : displayScript(caller)
}
