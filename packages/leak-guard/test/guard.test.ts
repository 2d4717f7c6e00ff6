import middy from '@middy/core'
import { onEvent, registerRoot, type WarmstartEvent } from '@warmstart/core'
import {
  type LeakFinding,
  LeakFoundError,
  type LeakGuard,
  leakGuard,
  leakGuardMiddleware,
} from '@warmstart/leak-guard'
import { deepCheck } from '@warmstart/leak-guard/deep'
import { afterEach, describe, expect, it } from 'vitest'
import { apiRequest, body, jwtFor, UNTIMED } from './corpus/events.js'

const g = globalThis as unknown as Record<string, unknown>
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
  for (const key of Object.keys(g)) if (key.startsWith('t_')) delete g[key]
  delete process.env.AWS_LAMBDA_MAX_CONCURRENCY
})

function collecting(options: Parameters<typeof leakGuard>[0] = {}) {
  const findings: LeakFinding[] = []
  return {
    findings,
    guard: leakGuard({ mode: 'report', onFinding: (f) => findings.push(...f), ...UNTIMED, ...options }),
  }
}

describe('options', () => {
  it.each([
    [{ mode: 'loud' }, 'mode'],
    [{ mode: 'report' }, 'onFinding'],
    [{ onFinding: 1 }, 'onFinding'],
    [{ sampleRate: 2 }, 'sampleRate'],
    [{ extract: [1] }, 'extract'],
    [{ allow: { values: [1] } }, 'allow.values'],
    [{ minLength: 2 }, 'minLength'],
    [{ budget: { nodes: 0 } }, 'budget.nodes'],
    [{ budget: { time: 'soon' } }, 'budget.time'],
    [{ remember: 0 }, 'remember'],
    [{ logger: {} }, 'logger'],
    [{ random: 0.5 }, 'random'],
    [{ deep: true }, 'deep'],
    [{ mod: 'warn' }, 'mod'],
    [{ budget: { node: 10 } }, 'budget.node'],
    [{ allow: { path: [] } }, 'allow.path'],
  ])('rejects %j naming %s', (options, option) => {
    expect(() => leakGuard(options as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining(`"${option}"`),
      }),
    )
  })
})

describe('options, checked', () => {
  it('rejects a misspelt option with the one it is close to, and deep: true with what replaces it', () => {
    expect(() => leakGuard({ mod: 'warn' } as never)).toThrow('did you mean "mode"?')
    expect(() => leakGuard({ budget: { tme: '5ms' } } as never)).toThrow('did you mean "budget.time"?')
    expect(() => leakGuard({ deep: true } as never)).toThrow(
      "import { deepCheck } from '@warmstart/leak-guard/deep'",
    )
    expect(() => leakGuard({ deep: false } as never)).not.toThrow()
  })

  it('needs the deep check for deepCheck(): given, or the deep option', async () => {
    await expect(leakGuard().deepCheck()).rejects.toMatchObject({ code: 'ERR_NO_DEEP_CHECK' })
    expect(await leakGuard().deepCheck(deepCheck)).toEqual([])
  })
})

describe('what is taken from a request', () => {
  it('finds headers, cookies, JWT claims, authorizer claims, SQS and EventBridge ids, and custom values', async () => {
    const { guard, findings } = collecting({
      extract: () => ['custom-value-1', { value: 'acct-998877', kind: 'account id' }],
    })
    const token = jwtFor('subject-42x', 'jwt.person@example.net')
    const event = {
      headers: {
        Authorization: `Bearer ${token}`,
        Cookie: 'sid=cookie-value-77; theme=dark',
        'x-api-key': 'key-1234567',
        'x-forwarded-for': '203.0.113.9, 10.0.0.1',
      },
      multiValueHeaders: {
        authorization: [`Basic ${Buffer.from('basicuser:hunter2-pass').toString('base64')}`],
      },
      cookies: ['v2cookie=abcdef-123456'],
      requestContext: {
        requestId: 'rc-request-1',
        accountId: '123456789012',
        authorizer: {
          claims: { sub: 'claim-sub-1', iss: 'https://issuer.example.com', 'custom:tenant_id': 'tenant-xyz' },
          principalId: 'principal-9',
        },
        identity: { sourceIp: '192.0.2.44', cognitoIdentityId: 'cog-identity-1' },
      },
      Records: [
        {
          messageId: 'msg-0001-aaaa',
          receiptHandle: 'receipt-handle-0123456789abcdef',
          body: '{"customerId":"cust-5555","note":"mail me at rec.person@example.com"}',
        },
      ],
      'detail-type': 'OrderPlaced',
      id: 'eb-event-0001',
      detail: { orderId: 123456789, nested: [{ email: 'nested@example.com' }] },
      isBase64Encoded: true,
      body: Buffer.from('{"userId":"b64-user-1"}').toString('base64'),
    }
    const kept: unknown[] = []
    g.t_kept = kept
    const walk = (v: unknown): void => {
      if (typeof v === 'string' || typeof v === 'number') kept.push(v)
      else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x)
    }
    await guard.wrap(() =>
      walk({
        ...event,
        extra: [
          token.split('.')[1],
          'custom-value-1',
          'acct-998877',
          'basicuser',
          'hunter2-pass',
          'cookie-value-77',
          'subject-42x',
          'jwt.person@example.net',
          'b64-user-1',
          'cust-5555',
          'rec.person@example.com',
        ],
      }),
    )(event, { awsRequestId: 'aws-request-1' })
    const kinds = new Set(findings.map((f) => f.kind))
    for (const kind of [
      'authorization header',
      'bearer token',
      'cookie',
      'api key',
      'ip address',
      'request id',
      'user id',
      'tenant id',
      'message id',
      'receipt handle',
      'event id',
      'order id',
      'email',
      'customer id',
      'password',
      'custom',
      'account id',
    ]) {
      expect(kinds, kind).toContain(kind)
    }
    // requestContext.accountId is the API's own account, not the caller's
    expect(findings.filter((f) => f.kind === 'account id').every((f) => f.value === 'acct…')).toBe(true)
    expect(findings.every((f) => !f.path.includes('iss'))).toBe(true)
    for (const finding of findings) expect(finding.value.length).toBeLessThanOrEqual(5)
  })

  it('never looks for short values, common words, allowed values, or numbers inside longer strings', async () => {
    const { guard, findings } = collecting({ allow: { values: ['allowed-user-1', /^tenant-/g] } })
    const event = {
      body: JSON.stringify({
        userId: 'abc',
        tenantId: 'default',
        accountId: '123456',
        customerId: 'allowed-user-1',
        orderId: 'tenant-ignored',
      }),
    }
    await guard.wrap(() => {
      g.t_state = {
        a: 'abc',
        b: 'default',
        c: 'ts-1234567890',
        d: 'allowed-user-1',
        e: 'tenant-ignored',
        f: 'not json',
      }
    })(event, {})
    expect(findings).toEqual([])
  })

  it('reads events that are not objects and bodies that are not JSON', async () => {
    const { guard, findings } = collecting()
    await guard.wrap(() => 1)('plain string event', { awsRequestId: 'req-plain-1' })
    await guard.wrap(() => 1)({ body: '{not json', Authorization: 'opaque-token-value' }, {})
    await guard.wrap(() => 1)({ headers: { authorization: 'Bearer not.a.jwt-token' } }, {})
    expect(findings).toEqual([])
  })
})

describe('the fast check', () => {
  it('finds values in Map keys, Set elements, arrays, numbers, functions and entries of registered roots', async () => {
    const { guard, findings } = collecting()
    const { event, context } = apiRequest()
    const { userId, email, orderId } = body(event)
    const privateState = new Map<string, unknown>()
    cleanups.push(registerRoot('t:private', { hidden: true }, () => privateState.entries()))
    function memo() {}
    memo.cache = { last: orderId }
    await guard.wrap(() => {
      g.t_map = new Map([[{ k: 1 }, [userId]]])
      g.t_set = new Set([email])
      g.t_fn = memo
      g.t_num = { n: 12345678 }
      g.t_buf = Buffer.from(userId)
      privateState.set('slot', { email })
    })(event, context)
    const paths = findings.map((f) => f.path)
    expect(paths).toEqual(
      expect.arrayContaining([
        'globalThis.t_map.get(a object)[0]',
        'globalThis.t_set → element',
        'globalThis.t_fn.cache.last',
        't:private.get("sl…").email',
      ]),
    )
    expect(paths.some((p) => p.startsWith('globalThis.t_buf'))).toBe(false)
  })

  it('matches numbers kept as numbers, and the request object as a key', async () => {
    const { guard, findings } = collecting()
    const event = { body: '{"orderId":987654321}' }
    await guard.wrap(() => {
      g.t_orders = new Map([[987654321, 'x']])
      g.t_byEvent = new Map([[event, 1]])
    })(event, {})
    expect(findings.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'globalThis.t_orders → key "9876…"',
        'globalThis.t_byEvent → key (the request object)',
      ]),
    )
  })

  it('reads a sparse array by its own keys: no loop up to its length, an index that is a request value found', async () => {
    const events: WarmstartEvent[] = []
    cleanups.push(onEvent((e) => events.push(e)))
    const { guard, findings } = collecting()
    const seen: unknown[] = []
    seen[4_000_000_000] = 'the last index a client ever had'
    g.t_seen = seen
    const first = { body: JSON.stringify({ userId: 987654321, orderId: 'ord-2024-55501' }) }
    await guard.wrap(() => {
      seen[987654321] = true
      seen[3_000_000_000] = { order: 'ord-2024-55501' }
    })(first, {})
    // Written below the length, which does not change: read again all the same.
    const second = { body: JSON.stringify({ userId: 'user-sparse-2' }) }
    await guard.wrap(() => {
      seen[55_555_555] = { user: 'user-sparse-2' }
    })(second, {})
    expect(findings.map((f) => f.path)).toEqual([
      'globalThis.t_seen → key "9876…"',
      'globalThis.t_seen[3000…].order',
      'globalThis.t_seen[5555…].user',
    ])
    const checks = events.filter((e) => e.type === 'leak.check')
    // Nodes of its own keys only (and of the test runner's globals), nowhere near its length.
    expect(checks.map((e) => [e.exhausted, e.nodes < 5_000])).toEqual([
      [false, true],
      [false, true],
    ])
  })

  it('reads a sparse array within the node budget, and only its indexes', async () => {
    const events: WarmstartEvent[] = []
    cleanups.push(onEvent((e) => events.push(e)))
    const { guard, findings } = collecting({ budget: { nodes: 5 } })
    const { event, context } = apiRequest()
    const sparse: unknown[] & { note?: string } = ['first']
    sparse.note = body(event).userId
    for (let i = 1; i <= 10; i++) sparse[i * 1_000_000] = { i }
    g.t_sparse = sparse
    await guard.wrap(() => 1)(event, context)
    expect(findings).toEqual([])
    expect(events.filter((e) => e.type === 'leak.check').map((e) => e.exhausted)).toEqual([true])
  })

  it('reads a container of up to 2,048 entries again every time: an entry replaced in place is seen', async () => {
    const { guard, findings } = collecting()
    const big = new Map<unknown, unknown>()
    const bigSet = new Set<unknown>()
    const dict: Record<string, unknown> = {}
    const list: unknown[] = []
    for (let i = 0; i < 300; i++) {
      big.set(`product-${i}`, { name: `Widget ${i}` })
      bigSet.add(`sku-${i}`)
      dict[`item-${i}`] = i
      list.push(i)
    }
    g.t_big = { big, bigSet, dict, list }
    await guard.wrap(() => 1)(apiRequest().event, apiRequest().context) // reads them all once
    const { event, context } = apiRequest()
    const { userId, email } = body(event)
    await guard.wrap(() => {
      big.delete('product-0')
      big.set(userId, 1)
      big.delete('product-1')
      big.set(event, 1)
      bigSet.delete('sku-0')
      bigSet.add(email)
      delete dict['item-0']
      dict[userId] = 1
      list[0] = event
    })(event, context)
    const paths = findings.map((f) => f.path)
    expect(paths).toEqual(
      expect.arrayContaining([
        'globalThis.t_big.big → key "user…"',
        'globalThis.t_big.big → key (the request object)',
        'globalThis.t_big.bigSet → element',
        'globalThis.t_big.dict → key "user…"',
      ]),
    )
    // A ring buffer's slot written again, the length unchanged.
    expect(paths).toContain('globalThis.t_big.list[0]')
  })

  it('stops at the node budget and says so', async () => {
    const events: WarmstartEvent[] = []
    cleanups.push(onEvent((e) => events.push(e)))
    const { guard } = collecting({ budget: { nodes: 5 } })
    const wide = Array.from({ length: 50 }, (_, i) => ({ i }))
    for (const container of [wide, new Set(wide), Object.fromEntries(wide.map((o) => [`k${o.i}`, o]))]) {
      g.t_wide = container
      await guard.wrap(() => 1)(apiRequest().event, apiRequest().context)
    }
    expect(
      events.filter((e) => e.type === 'leak.check').map((e) => (e as { exhausted: boolean }).exhausted),
    ).toEqual([true, true, true])
  })

  it('survives getters that throw', async () => {
    const { guard, findings } = collecting()
    g.t_trap = Object.defineProperty({}, 'bad', {
      enumerable: true,
      get: () => {
        throw new Error('no')
      },
    })
    await guard.wrap(() => 1)(apiRequest().event, apiRequest().context)
    expect(findings).toEqual([])
  })

  it('reports a place once, and each invocation its own values', async () => {
    const { guard, findings } = collecting()
    const first = apiRequest()
    const second = apiRequest()
    const sessions = new Map<string, unknown>()
    g.t_sessions = sessions
    const handler = guard.wrap((event: typeof first.event) => sessions.set(body(event).userId, 1))
    await handler(first.event, first.context)
    await handler(second.event, second.context)
    expect(findings.map((f) => f.invocation)).toEqual([
      first.context.awsRequestId,
      second.context.awsRequestId,
    ])
  })

  it('skips paths on the allow list', async () => {
    const { guard, findings } = collecting({ allow: { paths: ['globalThis.t_audit', /t_other/] } })
    const { event, context } = apiRequest()
    await guard.wrap(() => {
      g.t_audit = [body(event).userId]
      g.t_other = [body(event).userId]
    })(event, context)
    expect(findings).toEqual([])
  })
})

describe('modes, sampling and events', () => {
  it('warns through the logger by default, without the value, each finding once', async () => {
    const lines: { message: string; details: unknown }[] = []
    const guard = leakGuard({
      ...UNTIMED,
      sampleRate: 1,
      logger: { warn: (message, details) => lines.push({ message, details }), error: () => {} },
    })
    const { event, context } = apiRequest()
    const token = event.headers.authorization as string
    await guard.wrap(() => {
      g.t_token = token
    })(event, context)
    expect(lines).toEqual([
      {
        message: `leak-guard: request data outlived invocation ${context.awsRequestId} (1 place)`,
        details: { findings: [expect.objectContaining({ path: 'globalThis.t_token' })] },
      },
    ])
    expect(JSON.stringify(lines)).not.toContain(token.slice(7, 20))
  })

  it('writes the console the readable lines only, not the findings again as an object', async () => {
    const written: unknown[][] = []
    const warn = console.warn
    console.warn = (...args: unknown[]) => written.push(args)
    try {
      const guard = leakGuard({ sampleRate: 1 })
      const { event, context } = apiRequest()
      await guard.wrap(() => {
        g.t_console = body(event).userId
      })(event, context)
    } finally {
      console.warn = warn
    }
    expect(written).toHaveLength(1)
    expect(written[0]).toHaveLength(1)
    expect(String(written[0]?.[0]).match(/globalThis\.t_console/g)).toHaveLength(1)
  })

  it('throws LeakFoundError in throw mode, with the handler error as cause', async () => {
    const guard = leakGuard({ mode: 'throw', ...UNTIMED })
    const { event, context } = apiRequest()
    const failing = guard.wrap(() => {
      g.t_user = body(event).userId
      throw new Error('handler failed')
    })
    const error = await failing(event, context).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LeakFoundError)
    expect((error as LeakFoundError).code).toBe('ERR_LEAK_FOUND')
    expect((error as LeakFoundError).message).toContain('globalThis.t_user')
    expect((error as LeakFoundError).cause).toEqual(new Error('handler failed'))
    const ok = await guard.wrap(() => 'fine')(apiRequest().event, apiRequest().context)
    expect(ok).toBe('fine')
    await expect(
      guard.wrap(() => {
        throw new Error('plain')
      })(apiRequest().event, apiRequest().context),
    ).rejects.toThrow('plain')
  })

  it('checks only the sampled share, and emits leak.found and leak.check', async () => {
    const events: WarmstartEvent[] = []
    cleanups.push(onEvent((e) => events.push(e)))
    let roll = 0.9
    const { guard, findings } = collecting({ sampleRate: 0.5, random: () => roll })
    const leak = guard.wrap((event: ReturnType<typeof apiRequest>['event']) => {
      g.t_last = body(event).email
    })
    await leak(apiRequest().event, apiRequest().context)
    expect(findings).toEqual([])
    roll = 0.1
    await leak(apiRequest().event, apiRequest().context)
    expect(findings).toHaveLength(1)
    expect(events.map((e) => e.type)).toEqual(['leak.check', 'leak.found'])
    expect(await guard.end({})).toEqual([])
  })

  it('never reports a value of a request still in flight (Managed Instances)', async () => {
    process.env.AWS_LAMBDA_MAX_CONCURRENCY = '4'
    const rolls = [0.9, 0.1]
    const { guard, findings } = collecting({ sampleRate: 0.5, random: () => rolls.shift() as number })
    const a = apiRequest()
    const b = apiRequest()
    // One tenant: a value both requests carry.
    const tenant = { tenantId: 'tenant-shared-1' }
    a.event.body = JSON.stringify({ ...body(a.event), ...tenant })
    b.event.body = JSON.stringify({ ...body(b.event), ...tenant })
    const shared = new Map<string, unknown>()
    g.t_shared = shared
    await guard.begin(b.event, b.context) // b is in flight, not sampled, but its values are known
    await guard.begin(a.event, a.context) // a is sampled
    shared.set(body(b.event).userId, { ...tenant, note: 'b works here' })
    g.t_left = body(a.event).email
    await guard.end(a.context)
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['globalThis.t_left', a.context.awsRequestId],
    ])
  })

  it('in the classic mode, checks an invocation while an unsampled one is in flight', async () => {
    const rolls = [0.9, 0.1]
    const { guard, findings } = collecting({ sampleRate: 0.5, random: () => rolls.shift() as number })
    const unsampled = apiRequest()
    const checked = apiRequest()
    await guard.begin(unsampled.event, unsampled.context)
    await guard.begin(checked.event, checked.context)
    g.t_both = [body(unsampled.event).userId, body(checked.event).userId]
    await guard.end(checked.context)
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['globalThis.t_both[1]', checked.context.awsRequestId],
    ])
    expect(await guard.end(unsampled.context)).toEqual([])
  })

  it('reports every place of an invocation that leaves more than it remembers reporting', async () => {
    const { guard, findings } = collecting()
    const { event, context } = apiRequest()
    await guard.wrap(() => {
      g.t_many = Array.from({ length: 10_001 }, () => body(event).userId)
    })(event, context)
    expect(findings).toHaveLength(10_001)
    expect(findings[10_000]?.path).toBe('globalThis.t_many[10000]')
  })

  it('skips a registered root collected since it was registered', async () => {
    const events: WarmstartEvent[] = []
    cleanups.push(onEvent((e) => events.push(e)))
    const { guard, findings } = collecting()
    ;(() => {
      cleanups.push(registerRoot('t:collected', { held: 'nothing' }, (target) => Object.entries(target)))
    })()
    // A new task: the registration's WeakRef no longer keeps its target alive.
    await new Promise((resolve) => setImmediate(resolve))
    const { event, context } = apiRequest()
    await guard.wrap(() => (globalThis as { gc: () => void }).gc())(event, context)
    expect(findings).toEqual([])
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'leak.check', check: 'fast', exhausted: false }),
    )
  })

  it('never forgets the strings it saw clean: past its limit the memory stops growing, and what it holds stays true', async () => {
    const { guard, findings } = collecting({ budget: { nodes: 1_000_000, time: '1h' } })
    const later = apiRequest()
    const laterUser = body(later.event).userId
    // Content that exists before the later request does, and contains its user id.
    const before = `note about ${laterUser}`
    g.t_notes = [before]
    await guard.wrap(() => 1)(apiRequest().event, apiRequest().context)
    await guard.wrap(() => 1)(later.event, later.context)
    expect(findings).toEqual([])
    g.t_strings = Array.from({ length: 200_001 }, (_, i) => `string-${i}`)
    await guard.wrap(() => 1)(apiRequest().event, apiRequest().context)
    const again = apiRequest()
    again.event.body = later.event.body
    // The note existed before this request as well: not its leak, even with the memory full.
    await guard.wrap(() => 1)(again.event, again.context)
    expect(findings).toEqual([])
    // A string the full memory never held is still matched.
    const last = apiRequest()
    await guard.wrap(() => {
      ;(g.t_notes as string[]).push(`new note about ${body(last.event).userId}`)
    })(last.event, last.context)
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['globalThis.t_notes[1]', last.context.awsRequestId],
    ])
  })
})

describe('the middleware in a real Middy chain', () => {
  it('checks in after and onError, and fails the invocation in throw mode', async () => {
    const { findings } = { findings: [] as LeakFinding[] }
    const middleware = leakGuardMiddleware({
      ...UNTIMED,
      mode: 'report',
      onFinding: (f) => findings.push(...f),
    })
    const handler = middy(async (event: ReturnType<typeof apiRequest>['event']) => {
      if (event.rawPath === '/fail') {
        g.t_failed = body(event).userId
        throw new Error('boom')
      }
      g.t_ok = body(event).email
      return { statusCode: 200 }
    }).use(middleware)
    const ok = apiRequest()
    await handler(ok.event, ok.context as never)
    const failing = apiRequest()
    failing.event.rawPath = '/fail'
    await expect(handler(failing.event, failing.context as never)).rejects.toThrow('boom')
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['globalThis.t_ok', ok.context.awsRequestId],
      ['globalThis.t_failed', failing.context.awsRequestId],
    ])

    const throwing = middy(async (event: ReturnType<typeof apiRequest>['event']) => {
      g.t_thrown = body(event).userId
      return 1
    }).use(leakGuardMiddleware(leakGuard({ mode: 'throw', ...UNTIMED })))
    const r = apiRequest()
    await expect(throwing(r.event, r.context as never)).rejects.toBeInstanceOf(LeakFoundError)
  })

  it('runs each phase through the guard: before notes, after and onError check', async () => {
    const findings: LeakFinding[] = []
    const onFinding = (found: readonly LeakFinding[]) => findings.push(...found)
    const phase = ({ event, context }: ReturnType<typeof apiRequest>, error?: unknown) => ({
      event,
      context,
      response: undefined,
      error,
    })
    const checked = leakGuardMiddleware({ ...UNTIMED, mode: 'report', onFinding })
    const ok = apiRequest()
    await checked.before!(phase(ok))
    g.t_phase = body(ok.event).userId
    await checked.after!(phase(ok))
    const failed = apiRequest()
    await checked.before!(phase(failed))
    g.t_phaseFailed = body(failed.event).userId
    await checked.onError!(phase(failed, new Error('boom')))
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['globalThis.t_phase', ok.context.awsRequestId],
      ['globalThis.t_phaseFailed', failed.context.awsRequestId],
    ])
    const unsampled = leakGuardMiddleware({ ...UNTIMED, mode: 'report', onFinding, sampleRate: 0 })
    const skipped = apiRequest()
    await unsampled.before!(phase(skipped))
    g.t_unsampled = body(skipped.event).userId
    await unsampled.after!(phase(skipped))
    expect(findings).toHaveLength(2)
  })

  it('with deep set, the begin judges the invocations ended before it', async () => {
    const findings: LeakFinding[] = []
    const rolls = [0.1, 0.9]
    const deep = leakGuardMiddleware({
      mode: 'report',
      onFinding: (found) => findings.push(...found),
      deep: deepCheck,
      sampleRate: 0.5,
      random: () => rolls.shift() as number,
    })
    const gone = apiRequest()
    const ended = { event: gone.event, context: gone.context, response: undefined, error: undefined }
    await deep.before!(ended)
    await deep.after!(ended)
    // Not sampled, and its event not an object: in flight, and not followed, while the deep check runs.
    const next = {
      event: 'a plain event',
      context: apiRequest().context,
      response: undefined,
      error: undefined,
    }
    await deep.before!(next)
    await deep.after!(next)
    expect(findings).toEqual([])
  })

  it('runs a guard of another making through its public methods', async () => {
    const { guard, findings } = collecting()
    const calls: string[] = []
    const foreign: LeakGuard = {
      begin: (event, context) => {
        calls.push('begin')
        return guard.begin(event, context)
      },
      end: (context, options) => {
        calls.push(options?.cause === undefined ? 'end' : 'end with cause')
        return guard.end(context, options)
      },
      wrap: (handler) => guard.wrap(handler),
      deepCheck: (deep) => guard.deepCheck(deep),
    }
    const handler = middy(async (event: ReturnType<typeof apiRequest>['event']) => {
      g.t_foreign = body(event).userId
      if (event.rawPath === '/fail') throw new Error('boom')
      return 1
    }).use(leakGuardMiddleware(foreign))
    const ok = apiRequest()
    await handler(ok.event, ok.context as never)
    const failing = apiRequest()
    failing.event.rawPath = '/fail'
    await expect(handler(failing.event, failing.context as never)).rejects.toThrow('boom')
    expect(calls).toEqual(['begin', 'end', 'begin', 'end with cause'])
    expect(findings.map((f) => f.invocation)).toEqual([ok.context.awsRequestId, failing.context.awsRequestId])
  })

  it('with deep set, runs the deep check of an invocation once it has ended: when the next one begins', async () => {
    const { guard, findings } = collecting({ deep: deepCheck, remember: 2 })
    const gone = apiRequest()
    await guard.wrap(() => 1)(gone.event, gone.context)
    const { event, context } = apiRequest()
    const running = apiRequest()
    await guard.begin(running.event, running.context) // in flight during the check: its objects are not looked for
    ;(globalThis as { gc: () => void }).gc() // the first invocation's event and context are collected by now
    await guard.wrap(() => {
      g.t_deep = { user: body(event).userId }
      g.t_list = [body(event).email]
      // Values that are objects: a small integer is no node of a heap snapshot, and its key no edge.
      g.t_byKey = { [body(event).orderId]: { at: 1 }, [body(event).tenantId]: { at: 2 } }
    })(event, context)
    // While it is in flight, and right after it, only the fast check has judged it.
    expect(findings.every((f) => f.check === 'fast')).toBe(true)
    const next = apiRequest()
    await guard.wrap(() => 1)(next.event, next.context)
    expect(findings.map((f) => `${f.check} ${f.path}`)).toEqual(
      expect.arrayContaining([
        'fast globalThis.t_deep.user',
        expect.stringMatching(/^deep globalThis\.t_deep\.user → "user…"$/),
        expect.stringMatching(/^deep globalThis\.t_list\[0\] → "pers…"$/),
        // One finding per place: the object is reached from the first of its two keys.
        expect.stringMatching(/^deep globalThis\.t_byKey → key "(ord-|tena)…"$/),
      ]),
    )
    expect(findings.filter((f) => f.path.includes('t_byKey') && f.check === 'deep')).toHaveLength(1)
    expect(findings.every((f) => f.invocation === context.awsRequestId)).toBe(true)
    // Judged once: asking again reports nothing new.
    const before = findings.length
    await guard.deepCheck()
    expect(findings.slice(before)).toEqual([])
    expect(await leakGuard().deepCheck(deepCheck)).toEqual([])
    expect(await guard.end(running.context)).toEqual([])
  })
})
