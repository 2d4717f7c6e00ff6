// A deliberately leaky handler: every module-level value below keeps one caller's data for the
// next caller of the same execution environment. It exists to show what the leak guard reports.
// Do not copy it; the README says how each leak is fixed.
import middy from '@middy/core'
import { leakGuardMiddleware } from '@warmstart/leak-guard'
import { deepCheck } from '@warmstart/leak-guard/deep'
import { boundedLru } from '@warmstart/lru'
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { jsonLogger } from '../shared/json-logger.js'

interface Profile {
  userId: string
  greeting: string
  visits: number
}

// Leak 1: a cache keyed by user id, at module scope. It outlives the invocation, grows without
// bound, and holds every caller's profile.
const profiles = new Map<string, Profile>()

// Leak 2: the caller's bearer token, kept "to save parsing it again".
let lastToken: string | undefined

// Leak 3: a bounded cache of per-user responses. Bounded is not the same as safe: it is still one
// user's data kept for later. boundedLru registers itself, so the fast check looks inside it.
const responses = boundedLru<string, string>({ max: 100, name: 'responses' })

type Event = APIGatewayProxyEventV2WithJWTAuthorizer
type Result = APIGatewayProxyStructuredResultV2

async function app(event: Event): Promise<Result> {
  const userId = String(event.requestContext.authorizer.jwt.claims.sub)
  lastToken = event.headers.authorization?.replace(/^Bearer /, '')
  const cached = responses.get(userId)
  if (cached !== undefined) return { statusCode: 200, body: cached }
  const profile = profiles.get(userId) ?? { userId, greeting: `Hello ${userId}`, visits: 0 }
  profile.visits += 1
  profiles.set(userId, profile)
  const body = JSON.stringify({
    greeting: profile.greeting,
    visits: profile.visits,
    signedIn: lastToken !== undefined,
  })
  responses.set(userId, body)
  return { statusCode: 200, body }
}

// The fast check reads this module's variables (leaks 1 and 2) and the registered LRU (leak 3).
// `deep` adds a heap snapshot, which also reaches what the fast check cannot (other modules, the
// closures of listeners and timers) but costs a few hundred milliseconds: for tests and CI, not production (a production handler does not import
// '@warmstart/leak-guard/deep', and its bundle does not carry it). It judges an invocation once it has ended: at the
// start of the environment's next invocation, before its handler, whose logs then carry the
// findings (each names the invocation that left the data).
export const handler = middy<Event, Result>(app).use(
  leakGuardMiddleware({
    mode: 'warn',
    // A demonstration: every invocation is checked. In production leave the default (1 in 100 in
    // 'warn' mode), or set the share you can pay for (docs/benchmarks.md has the cost).
    sampleRate: 1,
    deep: process.env.LEAK_GUARD_DEEP === '1' ? deepCheck : undefined,
    // 20 ms by default: a check cut short reads on at the next invocation. The tests give it more,
    // so that what one invocation's check finds does not depend on the load of the machine.
    budget: { time: Number(process.env.LEAK_GUARD_TIME_BUDGET_MS ?? 20) },
    logger: jsonLogger,
  }),
)
