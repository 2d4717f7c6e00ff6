// The parent's side of runtime: 'ric' on every Node: the Runtime API server, the parsing of the
// runtime's log lines, finding the package, and an environment driven through ricProcess with a
// stand-in runtime (fixtures/fake-runtime.mjs) that uses the same JavaScript Runtime API client.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { RuntimeApi, type RuntimeApiEvents, ricSupport, simulateLambda } from '../src/index.js'
import { lambdaEnvironmentVariables } from '../src/lambda/environment-variables.js'
import { ExecutionEnvironment } from '../src/lambda/execution-environment.js'
import { resolveOptions } from '../src/lambda/options.js'
import { parseRuntimeLine, ricProcess, writeRicClient } from '../src/lambda/ric-process.js'
import { newTraceId } from '../src/lambda/runtime-api.js'
import type { Invocation } from '../src/lambda/types.js'
import { fixture } from './lambda-helpers.js'

const scratch = mkdtempSync(join(tmpdir(), 'warmstart-ric-process-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const BASE = '/2018-06-01/runtime'

describe('RuntimeApi', () => {
  const seen: string[] = []
  const events: RuntimeApiEvents = {
    ready: (uptimeMs) => seen.push(uptimeMs === undefined ? 'ready' : `ready ${uptimeMs}`),
    response: (id, body) => seen.push(`response ${id} ${body}`),
    error: (id, error) => seen.push(`error ${id} ${JSON.stringify(error)}`),
    initError: (error) => seen.push(`init-error ${JSON.stringify(error)}`),
  }
  let api: RuntimeApi | undefined
  afterEach(async () => {
    await api?.close()
    seen.length = 0
  })

  it('holds next until there is an invocation, then sends it with the runtime headers', async () => {
    api = await RuntimeApi.start(events)
    expect(api.address).toBe(`127.0.0.1:${api.port}`)
    const next = fetch(`http://${api.address}${BASE}/invocation/next`)
    await expect.poll(() => seen).toEqual(['ready'])
    api.invoke({
      requestId: 'r-1',
      payload: '{"a":1}',
      deadlineMs: 1234,
      functionArn: 'arn:f',
      traceId: 'Root=1-x',
      clientContext: '{"c":1}',
      cognitoIdentity: '{"i":1}',
    })
    const answer = await next
    expect(await answer.json()).toEqual({ a: 1 })
    expect(Object.fromEntries(answer.headers)).toMatchObject({
      'lambda-runtime-aws-request-id': 'r-1',
      'lambda-runtime-deadline-ms': '1234',
      'lambda-runtime-invoked-function-arn': 'arn:f',
      'lambda-runtime-trace-id': 'Root=1-x',
      'lambda-runtime-client-context': '{"c":1}',
      'lambda-runtime-cognito-identity': '{"i":1}',
    })
    const posted = await fetch(`http://${api.address}${BASE}/invocation/r-1/response`, {
      method: 'POST',
      body: '"ok"',
    })
    expect(posted.status).toBe(202)
    // Answered once: a second post for the same id is refused.
    const again = await fetch(`http://${api.address}${BASE}/invocation/r-1/response`, {
      method: 'POST',
      body: '1',
    })
    expect(again.status).toBe(400)
    expect(seen).toEqual(['ready', 'response r-1 "ok"'])
  })

  it('queues invocations given before the runtime asks, and makes a trace id when none is given', async () => {
    api = await RuntimeApi.start(events)
    api.invoke({ requestId: 'r-2', payload: 'null', deadlineMs: 1, functionArn: 'arn:f' })
    const answer = await fetch(`http://${api.address}${BASE}/invocation/next`, {
      headers: { 'x-warmstart-process-uptime-ms': '42.5' },
    })
    expect(seen).toEqual(['ready 42.5'])
    expect(answer.headers.get('lambda-runtime-trace-id')).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=/)
    expect(answer.headers.get('lambda-runtime-client-context')).toBeNull()
    const failed = await fetch(`http://${api.address}${BASE}/invocation/r-2/error`, {
      method: 'POST',
      headers: { 'lambda-runtime-function-error-type': 'Boom' },
      body: JSON.stringify({ errorType: 'Boom', errorMessage: 'it broke', trace: ['at a'] }),
    })
    expect(failed.status).toBe(202)
    expect(seen.at(-1)).toBe(
      `error r-2 ${JSON.stringify({ errorType: 'Boom', errorMessage: 'it broke', trace: ['at a'], header: 'Boom' })}`,
    )
  })

  it('takes init errors, reads an error body that is not JSON, and answers 404 to anything else', async () => {
    api = await RuntimeApi.start(events)
    await fetch(`http://${api.address}${BASE}/init/error`, { method: 'POST', body: 'plain text' })
    expect(seen).toEqual([
      `init-error ${JSON.stringify({ errorType: 'Unknown', errorMessage: 'plain text' })}`,
    ])
    await fetch(`http://${api.address}${BASE}/init/error`, {
      method: 'POST',
      headers: { 'lambda-runtime-function-error-type': 'Runtime.X' },
      body: '{}',
    })
    expect(seen.at(-1)).toBe(
      `init-error ${JSON.stringify({ errorType: 'Runtime.X', errorMessage: '', header: 'Runtime.X' })}`,
    )
    expect((await fetch(`http://${api.address}${BASE}/other`)).status).toBe(404)
  })

  it('drops a waiting next when it closes', async () => {
    api = await RuntimeApi.start(events)
    const next = fetch(`http://${api.address}${BASE}/invocation/next`)
    await expect.poll(() => seen).toEqual(['ready'])
    await api.close()
    await expect(next).rejects.toThrow()
    api = undefined
  })

  it('makes trace ids from the time', () => {
    expect(newTraceId(0x5f000000 * 1000)).toMatch(
      /^Root=1-5f000000-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/,
    )
  })
})

describe('parseRuntimeLine', () => {
  it('reads the text format back into the lines the function printed, tagged', () => {
    expect(parseRuntimeLine('2026-01-01T00:00:00.000Z\tr-1\tINFO\tone\rtwo')).toEqual([
      { kind: 'text', text: 'one', requestId: 'r-1' },
      { kind: 'text', text: 'two', requestId: 'r-1' },
    ])
  })

  it('keeps a JSON line whole, tagged by its requestId; anything else is untagged', () => {
    const json = JSON.stringify({ level: 'INFO', requestId: 'r-2', message: 'm' })
    expect(parseRuntimeLine(json)).toEqual([{ kind: 'text', text: json, requestId: 'r-2' }])
    expect(parseRuntimeLine('{not json')).toEqual([{ kind: 'text', text: '{not json' }])
    expect(parseRuntimeLine('{"level":"INFO"}')).toEqual([{ kind: 'text', text: '{"level":"INFO"}' }])
    expect(parseRuntimeLine('plain')).toEqual([{ kind: 'text', text: 'plain' }])
  })
})

describe('ricSupport', () => {
  it('needs Node 22 or later', () => {
    expect(ricSupport({ nodeVersion: '20.20.2' })).toEqual({
      available: false,
      reason: 'aws-lambda-ric needs Node.js >= 22 (this is 20.20.2)',
    })
  })

  it('finds the installed package, or says it is not installed', () => {
    const found = ricSupport({ nodeVersion: '24.0.0' })
    expect(found.available).toBe(true)
    expect(found.entry).toMatch(/aws-lambda-ric[/\\]index\.mjs$/)
    expect(ricSupport({ nodeVersion: '24.0.0', searchFrom: [join(scratch, 'package.json')] })).toEqual({
      available: false,
      reason: 'aws-lambda-ric is not installed (npm install --save-dev aws-lambda-ric)',
    })
  })

  it.skipIf(Number(process.versions.node.split('.')[0]) >= 22)(
    "makes simulateLambda({ runtime: 'ric' }) throw a typed error where it cannot run",
    () => {
      expect(() => simulateLambda({ handler: `${fixture('actions.mjs')}#handler`, runtime: 'ric' })).toThrow(
        expect.objectContaining({ code: 'ERR_RIC_UNAVAILABLE' }),
      )
    },
  )
})

describe('ricProcess, with a stand-in runtime', () => {
  const preload = writeRicClient(scratch)
  const environments: ExecutionEnvironment[] = []
  afterEach(async () => {
    await Promise.all(environments.splice(0).map((environment) => environment.stop()))
  })

  function environment(env: Record<string, string> = {}, timeout: number = 10_000): ExecutionEnvironment {
    const settings = resolveOptions({ handler: `${fixture('fake-runtime.mjs')}#handler`, env, timeout })
    const id = `env-${environments.length + 1}`
    const created = new ExecutionEnvironment(
      {
        id,
        start: ricProcess({
          entry: fixture('fake-runtime.mjs'),
          preload,
          outputPrefix: join(scratch, `${randomUUID()}-${id}`),
          env: lambdaEnvironmentVariables(settings),
          execArgv: [],
        }),
        timeoutMs: settings.timeoutMs,
        concurrency: 1,
        freeze: true,
      },
      () => undefined,
    )
    environments.push(created)
    return created
  }

  function invoke(target: ExecutionEnvironment, event: unknown): Promise<Invocation> {
    return new Promise((settle, fail) => target.assign({ requestId: randomUUID(), event, settle, fail }, 1))
  }

  it('runs invocations through the Runtime API: results, errors, log lines and a freeze in between', async () => {
    const target = environment()
    const cold = await invoke(target, { action: 'echo' })
    expect(cold).toMatchObject({ ok: true, coldStart: true, environment: 'env-1', timedOut: false })
    expect(cold.pid).toBeGreaterThan(0)
    expect(cold.initDurationMs).toBeGreaterThan(0)
    expect(cold.result).toMatchObject({
      echo: { action: 'echo' },
      arn: 'arn:aws:lambda:us-east-1:123456789012:function:simulated-function',
    })
    expect(cold.logs).toEqual(['init done', 'got', 'echo'])
    expect(target.info().state).toBe('frozen')
    const failed = await invoke(target, { action: 'fail' })
    expect(failed).toMatchObject({
      ok: false,
      coldStart: false,
      error: { name: 'OrderError', message: 'failed' },
    })
    expect((await invoke(target, { action: 'text' })).result).toBe('not json')
    const json = await invoke(target, { action: 'json' })
    expect(json.logs).toEqual([
      'got',
      'json',
      JSON.stringify({ level: 'INFO', requestId: json.requestId, message: 'as json' }),
    ])
  })

  it('reports an init error posted to the Runtime API and discards the environment', async () => {
    const target = environment({ FAKE_INIT_ERROR: '1' })
    const failed = await invoke(target, {})
    expect(failed).toMatchObject({
      ok: false,
      coldStart: true,
      error: { name: 'Runtime.ImportModuleError', message: 'Error: no module' },
      logs: ['Init Error'],
    })
    await target.closed
    expect(target.exited).toBe(true)
  })

  it('times out an invocation that never posts a result', async () => {
    const target = environment({}, 2_000)
    await invoke(target, { action: 'echo' })
    const late = await invoke(target, { action: 'hang' })
    expect(late).toMatchObject({ ok: false, timedOut: true, error: { name: 'TimeoutError' } })
  })

  it('settles what was given to an environment stopped before its process started', async () => {
    const target = environment()
    const pending = invoke(target, { action: 'echo' })
    await target.stop()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_SIMULATION_STOPPED' })
    expect(target.pid).toBe(-1)
  })
})
