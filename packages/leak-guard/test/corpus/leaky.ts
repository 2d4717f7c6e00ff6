import { EventEmitter } from 'node:events'
import { registerRoot } from '@warmstart/core'
import { type ApiEvent, bearer, body } from './events.js'

/** A leaky handler, with what the guard must say about it. */
export interface LeakyCase {
  readonly name: string
  readonly handler: (event: ApiEvent, context: object) => unknown
  /** Which check can see it: 'fast' when reachable from globals or registered roots. */
  readonly check: 'fast' | 'deep'
  /** A pattern every reported path for it matches. */
  readonly path: RegExp
  readonly kind: string
}

type Globals = Record<string, unknown>
const g = globalThis as unknown as Globals

// --- reachable from globalThis or a registered root: the fast check finds them -------------------

g.corpusSessions = new Map<string, unknown>()
g.corpusEvents = [] as unknown[]
const ordersById: Record<string, unknown> = {}
g.corpusOrders = ordersById
const emails = new Set<string>()
registerRoot('corpus:emails', emails)
const userLru = new Map<string, unknown>()
registerRoot('lru:users', userLru, (map) => map.entries())
class ApiClient {
  readonly cache = new Map<string, unknown>()
}
g.corpusClient = new ApiClient()

// --- module scope and closures: only the deep check sees them ------------------------------------
// The variables below are written and never read: keeping request data is the point of the corpus.

// biome-ignore lint/correctness/noUnusedVariables: a leak on purpose
let cachedUserData: unknown = {}
// biome-ignore lint/correctness/noUnusedVariables: a leak on purpose
let currentToken = ''
// biome-ignore lint/complexity/noStaticOnlyClass: a class static is one of the ways to leak
class SessionStore {
  static lastUser: string | undefined
}
const memo = new Map<string, unknown>()
function memoisedProfile(userId: string): unknown {
  if (!memo.has(userId)) memo.set(userId, { userId, loadedAt: 1 })
  return memo.get(userId)
}
const bus = new EventEmitter()
// biome-ignore lint/correctness/noUnusedVariables: a leak on purpose
let lastBodyCopy = ''
// biome-ignore lint/correctness/noUnusedVariables: a leak on purpose
let tokenTail = ''
const timers: NodeJS.Timeout[] = []
// biome-ignore lint/correctness/noUnusedVariables: a leak on purpose
let keptContext: object | undefined

export const leakyCases: LeakyCase[] = [
  {
    name: 'module map keyed by user id (on globalThis)',
    handler: (event) => (g.corpusSessions as Map<string, unknown>).set(body(event).userId, { at: 1 }),
    check: 'fast',
    path: /^globalThis\.corpusSessions → key "user…"$/,
    kind: 'user id',
  },
  {
    name: 'array of events',
    handler: (event) => (g.corpusEvents as unknown[]).push(event),
    check: 'fast',
    path: /^globalThis\.corpusEvents\[\d+\]$/,
    kind: 'event object',
  },
  {
    name: 'global assignment of the user',
    handler: (event) => {
      g.currentUser = { id: body(event).userId }
    },
    check: 'fast',
    path: /^globalThis\.currentUser\.id$/,
    kind: 'user id',
  },
  {
    name: 'object cache keyed by order id',
    handler: (event) => {
      ordersById[body(event).orderId] = { status: 'paid' }
    },
    check: 'fast',
    path: /^globalThis\.corpusOrders → key "ord-…"$/,
    kind: 'order id',
  },
  {
    name: 'Set of emails registered as a root',
    handler: (event) => emails.add(body(event).email),
    check: 'fast',
    path: /^corpus:emails → element$/,
    kind: 'email',
  },
  {
    name: 'lru keyed by user',
    handler: (event) => userLru.set(body(event).userId, { plan: 'pro' }),
    check: 'fast',
    path: /^lru:users → key "user…"$/,
    kind: 'user id',
  },
  {
    name: 'Map inside a client object',
    handler: (event) => (g.corpusClient as ApiClient).cache.set('last', { tenant: body(event).tenantId }),
    check: 'fast',
    path: /^globalThis\.corpusClient\.cache\.get\("la…"\)\.tenant$/,
    kind: 'tenant id',
  },
  {
    name: 'module variable holding the user (the classic)',
    handler: (event) => {
      cachedUserData = { id: body(event).userId, email: body(event).email }
    },
    check: 'deep',
    path: /^module .*leaky\.ts: cachedUserData\.(id|email) → "/,
    // One finding per place: the id or the email, whichever the search reaches the object from first.
    kind: 'any',
  },
  {
    name: 'token in a module variable',
    handler: (event) => {
      currentToken = bearer(event)
    },
    check: 'deep',
    path: /^module .*leaky\.ts: currentToken → "/,
    kind: 'any',
  },
  {
    name: 'class static',
    handler: (event) => {
      SessionStore.lastUser = body(event).email
    },
    check: 'deep',
    path: /^module .*leaky\.ts: SessionStore\.lastUser → "pers…"$/,
    kind: 'email',
  },
  {
    name: 'memoised function',
    handler: (event) => memoisedProfile(body(event).userId),
    check: 'deep',
    path: /^module .*leaky\.ts: memo → entry → "user…"$/,
    kind: 'user id',
  },
  {
    name: 'EventEmitter listener capturing the event',
    handler: (event) => {
      bus.on('refresh', () => event.rawPath)
    },
    check: 'deep',
    path: /^closure in .*leaky\.ts: event\b/,
    kind: 'any',
  },
  {
    name: 'closure kept by a timer',
    handler: (event) => {
      const user = body(event).userId
      timers.push(setInterval(() => user.length, 3_600_000))
    },
    check: 'deep',
    path: /^closure in .*leaky\.ts: user → "user…"$/,
    kind: 'user id',
  },
  {
    name: 'JSON copy of the event',
    handler: (event) => {
      lastBodyCopy = JSON.stringify(event)
    },
    check: 'deep',
    path: /^module .*leaky\.ts: lastBodyCopy → a string containing "/,
    kind: 'any',
  },
  {
    name: 'a substring of a token',
    handler: (event) => {
      tokenTail = bearer(event).slice(-24)
    },
    check: 'deep',
    path: /^module .*leaky\.ts: tokenTail → /,
    kind: 'any',
  },
  {
    name: 'context object kept',
    handler: (_event, context) => {
      keptContext = context
    },
    check: 'deep',
    path: /^module .*leaky\.ts: keptContext\b/,
    kind: 'any',
  },
]

/** Undoes every leak, so that cases run in any order and the process ends clean. */
export function resetLeaks(): void {
  ;(g.corpusSessions as Map<string, unknown>).clear()
  ;(g.corpusEvents as unknown[]).length = 0
  delete g.currentUser
  for (const key of Object.keys(ordersById)) delete ordersById[key]
  emails.clear()
  userLru.clear()
  ;(g.corpusClient as ApiClient).cache.clear()
  cachedUserData = {}
  currentToken = ''
  SessionStore.lastUser = undefined
  memo.clear()
  bus.removeAllListeners()
  lastBodyCopy = ''
  tokenTail = ''
  for (const timer of timers.splice(0)) clearInterval(timer)
  keptContext = undefined
}
