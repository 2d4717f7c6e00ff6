// One suite, two runtimes: warmstart's own runner and the real runtime interface client
// (aws-lambda-ric) against the testing kit's Runtime API. What differs on purpose is asserted per
// runtime and listed in docs/testing-lambda.md; everything else must hold under both.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ricSupport } from '../src/index.js'
import { eventually, fixture, isAlive, processState, simulate } from './lambda-helpers.js'

const actions = `${fixture('actions.mjs')}#handler`
const scratch = mkdtempSync(join(tmpdir(), 'warmstart-conformance-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const ric = ricSupport()
const runtimes = [
  { runtime: 'runner' as const, title: 'runtime: runner', skip: false },
  {
    runtime: 'ric' as const,
    // The reason is in the title, so a skipped run says why (Node 20, or the package absent).
    title: ric.available ? 'runtime: ric' : `runtime: ric (skipped: ${ric.reason})`,
    skip: !ric.available,
  },
]

describe.each(runtimes)('$title', ({ runtime, skip }) => {
  describe.skipIf(skip)('conformance', () => {
    it('keeps module state across warm invocations; a cold start reports its init', async () => {
      const lambda = simulate({ handler: actions, runtime })
      const cold = await lambda.invoke({ action: 'count' })
      const warm = await lambda.invoke({ action: 'count' })
      expect(cold).toMatchObject({ ok: true, coldStart: true, environment: 'env-1', result: { count: 1 } })
      expect(cold.initDurationMs).toBeGreaterThan(0)
      expect(warm).toMatchObject({ ok: true, coldStart: false, pid: cold.pid, result: { count: 2 } })
      expect(warm.initDurationMs).toBeUndefined()
      expect(lambda.environments()).toEqual([{ id: 'env-1', pid: cold.pid, state: 'frozen', invocations: 2 }])
    })

    it('builds the context from the function and the invocation: ids, names and a deadline', async () => {
      const lambda = simulate({ handler: actions, runtime, timeout: '5s', memoryMB: 1024 })
      const invocation = await lambda.invoke({ action: 'context' })
      const { fields, before, after, env } = invocation.result as {
        fields: Record<string, unknown>
        before: number
        after: number
        env: Record<string, string>
      }
      expect(fields).toMatchObject({
        awsRequestId: invocation.requestId,
        functionName: 'simulated-function',
        functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:simulated-function',
        memoryLimitInMB: '1024',
        logGroupName: '/aws/lambda/simulated-function',
        logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      })
      // The deadline is the timeout from the start of the invocation, read from the wall clock.
      expect(before).toBeLessThanOrEqual(5_000)
      expect(before).toBeGreaterThan(0)
      expect(after).toBeLessThan(before)
      expect(env).toMatchObject({ _HANDLER: 'actions.handler', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' })
      if (runtime === 'ric') {
        // The real runtime also hands over the X-Ray trace id of the invocation.
        expect(fields.xRayTraceId).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/)
        expect(env.AWS_LAMBDA_RUNTIME_API).toMatch(/^127\.0\.0\.1:\d+$/)
      } else {
        expect(fields.callbackWaitsForEmptyEventLoop).toBe(true)
      }
    })

    it('reports an error the handler throws by its name and message; the environment stays warm', async () => {
      const lambda = simulate({ handler: actions, runtime })
      const failed = await lambda.invoke({ action: 'throw' })
      expect(failed).toMatchObject({
        ok: false,
        timedOut: false,
        error: { name: 'OrderError', message: 'handler failed' },
      })
      // Our runner also passes the error's code on; the runtime's error response has no such field.
      if (runtime === 'runner') expect(failed.error?.code).toBe('E_ORDER')
      else expect(failed.error?.code).toBeUndefined()
      const next = await lambda.invoke({ action: 'count' })
      expect(next).toMatchObject({ ok: true, coldStart: false, pid: failed.pid })
    })

    it('attributes log lines to the invocation that printed them', async () => {
      const lambda = simulate({ handler: actions, runtime })
      const logged = await lambda.invoke({ action: 'log' })
      // Lines keep their order per stream; stdout and stderr are read apart (the runner's pipes).
      expect([...logged.logs].sort()).toEqual(['partial line', 'to stderr', 'to stdout 1'])
      const next = await lambda.invoke({ action: 'count' })
      expect(next.logs).toEqual([])
    })

    it('prints JSON log lines with AWS_LAMBDA_LOG_FORMAT=JSON under the real runtime only', async () => {
      const lambda = simulate({ handler: actions, runtime, env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' } })
      const logged = await lambda.invoke({ action: 'log' })
      if (runtime === 'runner') {
        // Our runner prints what the function printed, whatever the format asked for.
        expect([...logged.logs].sort()).toEqual(['partial line', 'to stderr', 'to stdout 1'])
        return
      }
      const [out, err, partial] = logged.logs
      expect(JSON.parse(out!)).toMatchObject({
        level: 'INFO',
        requestId: logged.requestId,
        message: 'to stdout 1',
      })
      expect(JSON.parse(err!)).toMatchObject({
        level: 'ERROR',
        requestId: logged.requestId,
        message: 'to stderr',
      })
      expect(partial).toBe('partial line')
    })

    it('freezes the process between invocations: no timer fires while frozen', async () => {
      const lambda = simulate({ handler: actions, runtime, env: { TICK_MS: '5' } })
      const first = await lambda.invoke({ action: 'ticks' })
      const frozenAt = Date.now()
      expect(await eventually(() => processState(first.pid) === 'T')).toBe(true)
      await lambda.wait(300)
      const thawedAt = Date.now()
      const second = await lambda.invoke({ action: 'ticks' })
      const ticks = second.result as number[]
      expect(ticks.filter((time) => time > frozenAt && time < thawedAt)).toEqual([])
    })

    it('resumes work left pending at return once thawed', async () => {
      const lambda = simulate({ handler: actions, runtime })
      await lambda.invoke({ action: 'schedule' })
      await lambda.wait(100)
      // Under the real runtime the handler may be called before the overdue timer fires (the
      // event arrives in the same turn of the loop): a short sleep lets it run either way.
      const during = await lambda.invoke({ action: 'sleep', ms: 50 })
      expect(during.logs).toContain('pending work ran')
      expect((await lambda.invoke({ action: 'pending' })).result).toBe(true)
    })

    it('kills an environment whose invocation runs past the timeout; the next one is cold', async () => {
      const lambda = simulate({ handler: actions, runtime, timeout: '2s' })
      const warm = await lambda.invoke({ action: 'count' })
      const late = await lambda.invoke({ action: 'sleep', ms: 10_000 })
      expect(late).toMatchObject({
        ok: false,
        timedOut: true,
        pid: warm.pid,
        error: { name: 'TimeoutError', message: 'Task timed out after 2.00 seconds' },
      })
      expect(isAlive(warm.pid)).toBe(false)
      const next = await lambda.invoke({ action: 'count' })
      expect(next).toMatchObject({ ok: true, coldStart: true, environment: 'env-2', result: { count: 1 } })
    })

    it('fails the invocation with the init error and discards the environment', async () => {
      const lambda = simulate({ handler: `${fixture('init-error.mjs')}#handler`, runtime })
      const failed = await lambda.invoke({})
      expect(failed).toMatchObject({
        ok: false,
        coldStart: true,
        timedOut: false,
        error: { name: 'TypeError', message: 'configuration missing' },
      })
      expect(failed.logs.some((line) => line.includes('loading configuration'))).toBe(true)
      expect(lambda.environments()).toEqual([])
      expect(await lambda.invoke({})).toMatchObject({ environment: 'env-2', coldStart: true, ok: false })
    })

    it('names a missing module, a syntax error and a missing export as Lambda does', async () => {
      const broken = join(scratch, `broken-${runtime}.mjs`)
      writeFileSync(broken, 'export const handler = async () => {\n')
      const cases = [
        [join(scratch, 'missing.mjs#handler'), 'Runtime.ImportModuleError'],
        [`${broken}#handler`, 'Runtime.UserCodeSyntaxError'],
        [`${fixture('no-handler.mjs')}#handler`, 'Runtime.HandlerNotFound'],
      ] as const
      for (const [handler, name] of cases) {
        const failed = await simulate({ handler, runtime }).invoke({})
        expect(failed).toMatchObject({ ok: false, coldStart: true, error: { name } })
      }
    })

    it('delivers SIGTERM on shutdown to a thawed process', async () => {
      const marker = join(scratch, `shutdown-${runtime}`)
      const lambda = simulate({
        handler: `${fixture('shutdown.mjs')}#handler`,
        runtime,
        env: { SHUTDOWN_MARKER: marker },
      })
      const { pid } = await lambda.invoke({})
      expect(await lambda.shutdown()).toEqual([{ exitCode: 0, signal: null }])
      expect(existsSync(marker) && readFileSync(marker, 'utf8')).toBe(`shutdown ${pid}`)
    })

    it('serves overlapping invocations in one process under Managed Instances', async () => {
      const lambda = simulate({
        handler: `${fixture('managed.mjs')}#handler`,
        runtime,
        mode: 'managed-instances',
        maxConcurrency: 4,
      })
      const served = await lambda.burst([1, 2, 3, 4].map(() => ({ ms: 300 })))
      expect(new Set(served.map((invocation) => invocation.pid)).size).toBe(1)
      for (const invocation of served) {
        const result = invocation.result as { seen: string[]; maxInFlight: number; concurrency: string }
        // Each invocation sees its own request id across awaits, through the invoke store.
        expect(new Set(result.seen)).toEqual(new Set([invocation.requestId]))
        expect(result.concurrency).toBe('4')
      }
      expect(
        Math.max(...served.map((invocation) => (invocation.result as { maxInFlight: number }).maxInFlight)),
      ).toBeGreaterThan(1)
      expect(lambda.environments()[0]!.state).toBe('idle')
    })
  })
})
