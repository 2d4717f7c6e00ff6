import { processWide } from '@warmstart/core/internal'
import { type LeakFinding, leakGuard } from '@warmstart/leak-guard'
import { flushMicrotasks } from '@warmstart/testing/doubles'
import { afterEach, describe, expect, it } from 'vitest'
import { lambdaHandler } from '../src/module-scope.js'
import { apiRequest, body, UNTIMED } from './corpus/events.js'

// Module state of this test file, as a handler module keeps it: the production check reads it
// through node:inspector, with no heap snapshot.
let cachedUserData: { id: string } | undefined
function memoize<T>(load: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>()
  return (key) => {
    if (!cache.has(key)) cache.set(key, load(key))
    return cache.get(key) as T
  }
}
const profileOf = memoize((userId: string) => ({ userId }))

// A bundle inlines warmstart's modules: their process-wide bookkeeping (core's invocation tracker,
// lifecycle's first invocation) becomes module variables beside the handler's own.
const bookkeeping = processWide('test:bookkeeping', () => ({
  current: undefined as { requestId: string } | undefined,
}))
const lookalike = { current: undefined as { requestId: string } | undefined }

async function app(event: ReturnType<typeof apiRequest>['event'], route: string): Promise<number> {
  const { userId, orderId } = body(event)
  if (route === 'module') cachedUserData = { id: userId }
  if (route === 'memo') profileOf(orderId)
  return cachedUserData === undefined ? 0 : 1
}

describe('the production check reads the watched handler module scope', () => {
  it('names the module variable and the memoiser closure that keep a request value', async () => {
    const findings: LeakFinding[] = []
    const guard = leakGuard({ mode: 'report', onFinding: (f) => findings.push(...f), watch: app, ...UNTIMED })
    const first = apiRequest()
    await guard.wrap(() => app(first.event, 'module'))(first.event, first.context)
    const second = apiRequest()
    await guard.wrap(() => app(second.event, 'memo'))(second.event, second.context)
    const clean = apiRequest()
    await guard.wrap(() => app(clean.event, 'none'))(clean.event, clean.context)
    expect(findings.map((f) => [f.path, f.invocation, f.check])).toEqual([
      // Vitest runs a test file's top level inside a function: its module scope is a block scope here
      // (a real handler module's is `module handler.mjs: cachedUserData.id`, see lambda.test.ts).
      ['block: cachedUserData.id', first.context.awsRequestId, 'fast'],
      ['closure profileOf(): cache → key "ord-…"', second.context.awsRequestId, 'fast'],
      ['closure profileOf(): cache.get("ord-…").userId', second.context.awsRequestId, 'fast'],
    ])
  })

  it("does not report warmstart's own process-wide state held in module scope, as in a bundle", async () => {
    const findings: LeakFinding[] = []
    const guard = leakGuard({ mode: 'report', onFinding: (f) => findings.push(...f), watch: app, ...UNTIMED })
    const request = apiRequest()
    await guard.wrap(() => {
      bookkeeping.current = { requestId: request.context.awsRequestId }
      lookalike.current = { requestId: request.context.awsRequestId }
      return app(request.event, 'none')
    })(request.event, request.context)
    // The same shape outside processWide is reported: the state is known by what it is, not its shape.
    expect(findings.map((f) => f.path)).toEqual(['block: lookalike.current.requestId'])
  })

  it('reads no module scope with watch: false, and rejects a watch that is not a function', async () => {
    const findings: LeakFinding[] = []
    const guard = leakGuard({
      mode: 'report',
      onFinding: (f) => findings.push(...f),
      watch: false,
      ...UNTIMED,
    })
    const request = apiRequest()
    await guard.wrap(() => app(request.event, 'module'))(request.event, request.context)
    expect(findings).toEqual([])
    expect(() => leakGuard({ watch: [1] as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
  })
})

describe('the handler Lambda runs, found from _HANDLER', () => {
  const fixtures = new URL('fixtures/', import.meta.url).pathname
  const env = { root: process.env.LAMBDA_TASK_ROOT, handler: process.env._HANDLER }
  afterEach(() => {
    if (env.root === undefined) delete process.env.LAMBDA_TASK_ROOT
    else process.env.LAMBDA_TASK_ROOT = env.root
    if (env.handler === undefined) delete process.env._HANDLER
    else process.env._HANDLER = env.handler
  })

  it('reads the module scope of the module the runtime loaded, named after its file', async () => {
    process.env.LAMBDA_TASK_ROOT = fixtures
    process.env._HANDLER = 'scope-handler.handler'
    // Loaded first, as the runtime loads it, and the guard made after: its look-up of the handler
    // has not settled when the first check comes, and the check waits for it.
    const fixture: string = './fixtures/scope-handler.mjs'
    const loaded = (await import(fixture)) as { handler: (event: unknown) => Promise<number> }
    const findings: LeakFinding[] = []
    const guard = leakGuard({ mode: 'report', onFinding: (f) => findings.push(...f), ...UNTIMED })
    const { event, context } = apiRequest()
    await guard.wrap(loaded.handler)(event, context)
    // Under vitest the module's top level runs inside a function (a block scope); under Lambda it is `module scope-handler.mjs: lastUser` (lambda.test.ts).
    expect(findings.map((f) => [f.path, f.check])).toEqual([
      [expect.stringMatching(/^(module .*scope-handler\.mjs|block): lastUser$/), 'fast'],
    ])
  })

  it('finds nothing to read for a missing module, a handler without a dot, or an export that is no function', async () => {
    for (const [root, handler] of [
      [fixtures, 'missing.handler'],
      [fixtures, 'nodot'],
      [fixtures, 'scope-handler.notAFunction'],
    ] as const) {
      process.env.LAMBDA_TASK_ROOT = root
      process.env._HANDLER = handler
      const findings: LeakFinding[] = []
      const guard = leakGuard({ mode: 'report', onFinding: (f) => findings.push(...f), ...UNTIMED })
      await flushMicrotasks()
      const { event, context } = apiRequest()
      await guard.wrap(() => 1)(event, context)
      expect(findings).toEqual([])
    }
  })

  it('finds a CommonJS handler, whose exports import() puts on default', async () => {
    process.env.LAMBDA_TASK_ROOT = fixtures
    process.env._HANDLER = 'cjs-handler.handler'
    const found = await lambdaHandler()
    expect(typeof found?.fn).toBe('function')
    expect(found?.script).toMatch(/cjs-handler\.cjs$/)
  })

  it('finds nothing outside Lambda', async () => {
    delete process.env.LAMBDA_TASK_ROOT
    delete process.env._HANDLER
    expect(await lambdaHandler()).toBeUndefined()
  })
})
