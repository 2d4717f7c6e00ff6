import { onEvent, registerRoot, type WarmstartEvent } from '@warmstart/core'
import { type LeakFinding, LeakFoundError, leakGuard } from '@warmstart/leak-guard'
import { deepCheck } from '@warmstart/leak-guard/deep'
import { afterEach, describe, expect, it } from 'vitest'
import { apiRequest, bearer, body, UNTIMED } from './corpus/events.js'

// A caller whose user id looks like code (an identifier), and whose order id is a number: the two
// kinds of key a path would otherwise print as they are.
const g = globalThis as unknown as Record<string, unknown>
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
  for (const key of Object.keys(g)) if (key.startsWith('t_') || key.startsWith('u_')) delete g[key]
})

// Module and closure state, for the deep check's paths.
const moduleState: Record<string, unknown> = {}
const timers: NodeJS.Timeout[] = []
afterEach(() => {
  for (const key of Object.keys(moduleState)) delete moduleState[key]
  for (const timer of timers.splice(0)) clearInterval(timer)
})

function caller() {
  const request = apiRequest()
  const n = request.context.awsRequestId.slice(0, 6).replace(/\d/g, 'x')
  const userId = `u_${n}_smith`
  const orderId = 87_000_000 + Math.floor(Math.random() * 999_999)
  request.event.body = JSON.stringify({ ...body(request.event), userId, orderId })
  const { email, tenantId } = body(request.event)
  const token = bearer(request.event)
  const secrets = [userId, String(orderId), email, tenantId, token, request.event.headers.cookie as string]
  return { ...request, userId, orderId, email, tenantId, token, secrets }
}

/** Everything the guard said, as text: findings (but their `invocation`), log lines, events, error messages. */
function said(findings: readonly LeakFinding[], lines: readonly string[], events: readonly WarmstartEvent[]) {
  const withoutInvocation = (value: object) => ({ ...value, invocation: undefined })
  return JSON.stringify([findings.map(withoutInvocation), lines, events.map(withoutInvocation)])
}

describe('no request value in full in what the guard says', () => {
  it('redacts every shape of path: a global named after a value, Map keys, a registered root, numbers, property keys, module and closure variables', async () => {
    const events: WarmstartEvent[] = []
    cleanups.push(onEvent((event) => events.push(event)))
    const lines: string[] = []
    const findings: LeakFinding[] = []
    const guard = leakGuard({
      ...UNTIMED,
      mode: 'warn',
      sampleRate: 1,
      remember: 2,
      onFinding: (found) => findings.push(...found),
      logger: { warn: (message, details) => lines.push(message, JSON.stringify(details)), error: () => {} },
    })
    const earlier = caller()
    const c = caller()
    const listed = new Map<unknown, unknown>()
    cleanups.push(registerRoot('t:listed', { private: true }, () => listed.entries()))
    await guard.wrap(() => {
      g[`u_${c.userId}`] = { at: 1 }
      g.t_sessions = new Map([[c.userId, { email: c.email }]])
      g.t_orders = new Map([[c.orderId, { tenant: c.tenantId }]])
      g.t_byUser = { [c.userId]: { profile: { email: c.email } } }
      g.t_list = [{ token: c.token }]
      // A key of an earlier caller on the way to this caller's value: it is data, shown redacted too.
      g.t_seen = new Map([[earlier.userId, { lastSeenBy: c.email }]])
      listed.set(c.userId, { cookie: c.event.headers.cookie })
      moduleState[c.userId] = { email: c.email }
      const kept = { [c.userId]: c.tenantId }
      timers.push(setInterval(() => kept, 3_600_000))
    })(c.event, c.context)
    const paths = findings.map((f) => f.path)
    const user = c.userId.slice(0, 4)
    const order = String(c.orderId).slice(0, 4)
    expect(paths).toEqual(
      expect.arrayContaining([
        `globalThis → key "u_${user.slice(0, 2)}…"`,
        `globalThis.t_sessions → key "${user}…"`,
        `globalThis.t_sessions.get("${user}…").email`,
        `globalThis.t_orders → key "${order}…"`,
        `globalThis.t_orders.get(${order}…).tenant`,
        `globalThis.t_byUser → key "${user}…"`,
        `globalThis.t_byUser["${user}…"].profile.email`,
        'globalThis.t_list[0].token',
        `globalThis.t_seen.get("${earlier.userId.slice(0, 4)}…").lastSeenBy`,
        `t:listed → key "${user}…"`,
        `t:listed.get("${user}…").cookie`,
      ]),
    )
    await guard.wrap(() => 1)(apiRequest().event, apiRequest().context)
    await guard.deepCheck(deepCheck)
    const deep = findings.filter((f) => f.check === 'deep').map((f) => f.path)
    expect(deep).toEqual(
      expect.arrayContaining([
        `module packages/leak-guard/test/redaction.test.ts: moduleState → key "${user}…"`,
        `closure in packages/leak-guard/test/redaction.test.ts: kept → key "${user}…"`,
      ]),
    )
    const text = said(findings, lines, events)
    for (const secret of [...c.secrets, earlier.userId]) expect(text).not.toContain(secret)
    // The request id names the invocation, in `invocation` only.
    expect(findings.every((f) => f.invocation === c.context.awsRequestId)).toBe(true)
    expect(paths.join('\n')).not.toContain(c.context.awsRequestId)
  })

  it('says nothing in full in the error of throw mode', async () => {
    const guard = leakGuard({ mode: 'throw', ...UNTIMED })
    const c = caller()
    const error = await guard
      .wrap(() => {
        g.t_byUser = { [c.userId]: c.email }
        g.t_orders = [c.orderId]
      })(c.event, c.context)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LeakFoundError)
    const text = `${(error as Error).message}\n${JSON.stringify((error as LeakFoundError).findings)}`
    expect(text).toContain('globalThis.t_byUser')
    for (const secret of c.secrets) expect(text).not.toContain(secret)
  })
})
