import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { simulateLambda } from '../src/index.js'
import { callHandler, findHandler } from '../src/lambda/call-handler.js'
import { lambdaContext } from '../src/lambda/context.js'
import { lambdaEnvironmentVariables } from '../src/lambda/environment-variables.js'
import { endMark, type LogLine, LogLineSplitter, taggedLines } from '../src/lambda/log-lines.js'
import { resolveOptions, type SimulateLambdaOptions } from '../src/lambda/options.js'
import { initFailure, reportedError } from '../src/lambda/reported-error.js'
import { runnerPath, testingPackageDir } from '../src/lambda/runner-path.js'

const handler = '/var/task/index.mjs#handler'
const scratch = mkdtempSync(join(tmpdir(), 'warmstart-lambda-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('simulateLambda options', () => {
  it('applies the defaults', () => {
    expect(resolveOptions({ handler })).toEqual({
      modulePath: '/var/task/index.mjs',
      exportName: 'handler',
      env: {},
      memoryMB: 512,
      timeoutMs: 30_000,
      maxEnvironments: 10,
      mode: 'classic',
      concurrencyPerEnvironment: 1,
      freeze: true,
      initType: 'on-demand',
      execArgv: [],
      runtime: 'runner',
    })
  })

  it('takes the runtime from the option, else from WARMSTART_LAMBDA_RUNTIME', () => {
    expect(resolveOptions({ handler, runtime: 'ric' }).runtime).toBe('ric')
    const saved = process.env.WARMSTART_LAMBDA_RUNTIME
    try {
      process.env.WARMSTART_LAMBDA_RUNTIME = 'ric'
      expect(resolveOptions({ handler }).runtime).toBe('ric')
      expect(resolveOptions({ handler, runtime: 'runner' }).runtime).toBe('runner')
      process.env.WARMSTART_LAMBDA_RUNTIME = 'lambda'
      expect(() => resolveOptions({ handler })).toThrowError(
        expect.objectContaining({ message: expect.stringContaining('"WARMSTART_LAMBDA_RUNTIME"') }),
      )
    } finally {
      if (saved === undefined) delete process.env.WARMSTART_LAMBDA_RUNTIME
      else process.env.WARMSTART_LAMBDA_RUNTIME = saved
    }
  })

  it('reads managed-instances settings', () => {
    expect(resolveOptions({ handler, mode: 'managed-instances', freeze: true })).toMatchObject({
      concurrencyPerEnvironment: 4,
      freeze: false,
      initType: 'lambda-managed-instances',
    })
    expect(
      resolveOptions({ handler, mode: 'managed-instances', maxConcurrency: 16 }).concurrencyPerEnvironment,
    ).toBe(16)
  })

  const invalid: [string, unknown][] = [
    ['options', null],
    ['handler', { handler: 'index.handler' }],
    ['handler', { handler: 'relative/index.mjs#handler' }],
    ['handler', { handler: '/var/task/index.mjs#' }],
    ['handler', { handler: 42 }],
    ['memoryMB', { handler, memoryMB: 64 }],
    ['memoryMB', { handler, memoryMB: 10_241 }],
    ['memoryMB', { handler, memoryMB: 256.5 }],
    ['timeout', { handler, timeout: 'soon' }],
    ['timeout', { handler, timeout: 0 }],
    ['maxEnvironments', { handler, maxEnvironments: 0 }],
    ['mode', { handler, mode: 'serverless' }],
    ['maxConcurrency', { handler, maxConcurrency: 2 }],
    ['maxConcurrency', { handler, mode: 'managed-instances', maxConcurrency: 0 }],
    ['initType', { handler, initType: 'warm' }],
    ['initType', { handler, mode: 'managed-instances', initType: 'on-demand' }],
    ['freeze', { handler, freeze: 'yes' }],
    ['env', { handler, env: { A: 1 } }],
    ['env', { handler, env: ['A=1'] }],
    ['execArgv', { handler, execArgv: '--inspect' }],
    ['runtime', { handler, runtime: 'nodejs24.x' }],
  ]
  it.each(invalid)('rejects a bad %s', (option, options) => {
    expect(() => resolveOptions(options as SimulateLambdaOptions)).toThrowError(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining(`"${option}"`),
      }),
    )
  })

  it('says what is allowed', () => {
    expect(() => resolveOptions({ handler, memoryMB: 64 })).toThrow(
      'must be an integer from 128 to 10240 (got 64)',
    )
    expect(() => resolveOptions({ handler, maxEnvironments: 0 })).toThrow('must be an integer >= 1 (got 0)')
    expect(() => simulateLambda({ handler: 'index.handler' })).toThrow(
      "'/absolute/path/to/module.mjs#exportName'",
    )
  })

  it('validates the arguments of wait and shutdown', async () => {
    const lambda = simulateLambda({ handler })
    await expect(lambda.wait(-1)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
    await expect(lambda.shutdown(undefined, { graceMs: -5 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    })
    await lambda.stop()
  })
})

describe('the environment variables of an environment', () => {
  it("leaves out the test process's AWS_* variables and keeps the rest", () => {
    const settings = resolveOptions({ handler, env: { AWS_ACCESS_KEY_ID: 'given' } })
    const env = lambdaEnvironmentVariables(
      settings,
      { AWS_ACCESS_KEY_ID: 'AKIA-test', AWS_PROFILE: 'dev', PATH: '/bin', UNSET: undefined },
      new Date(Date.UTC(2026, 4, 17)),
    )
    expect(env.PATH).toBe('/bin')
    expect(env.AWS_PROFILE).toBeUndefined()
    expect(env.AWS_ACCESS_KEY_ID).toBe('given')
    expect('UNSET' in env).toBe(false)
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^2026\/05\/17\/\[\$LATEST\][0-9a-f]{32}$/)
  })

  it('sets AWS_LAMBDA_MAX_CONCURRENCY in managed-instances mode', () => {
    const settings = resolveOptions({ handler, mode: 'managed-instances', maxConcurrency: 8 })
    expect(lambdaEnvironmentVariables(settings, {})).toMatchObject({
      AWS_LAMBDA_MAX_CONCURRENCY: '8',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'lambda-managed-instances',
    })
  })
})

describe('the context object', () => {
  it('falls back to empty fields without the environment variables, and never goes below zero', () => {
    const context = lambdaContext({}, 'req-1', Date.now() - 10)
    expect(context).toMatchObject({
      awsRequestId: 'req-1',
      functionName: '',
      functionVersion: '$LATEST',
      memoryLimitInMB: '',
      logGroupName: '',
      logStreamName: '',
    })
    expect(context.getRemainingTimeInMillis()).toBe(0)
  })
})

describe('log lines', () => {
  function parse(chunks: string[], flush = false): LogLine[] {
    const lines: LogLine[] = []
    const splitter = new LogLineSplitter((line) => lines.push(line))
    for (const chunk of chunks) splitter.push(chunk)
    if (flush) splitter.flush()
    return lines
  }

  it('tags each line printed inside an invocation and leaves others as they are', () => {
    const text = taggedLines('a\nb', 'req-1') + taggedLines('c', undefined) + endMark('req-1')
    expect(parse([text.slice(0, 5), text.slice(5)])).toEqual([
      { kind: 'text', text: 'a', requestId: 'req-1' },
      { kind: 'text', text: 'b', requestId: 'req-1' },
      { kind: 'text', text: 'c' },
      { kind: 'end', requestId: 'req-1' },
    ])
  })

  it('splits a partial line from the end mark that follows it, and flushes a last partial line', () => {
    expect(parse([`partial${endMark('req-2')}tail`], true)).toEqual([
      { kind: 'text', text: 'partial' },
      { kind: 'end', requestId: 'req-2' },
      { kind: 'text', text: 'tail' },
    ])
    expect(parse([], true)).toEqual([])
  })
})

describe('reported errors', () => {
  it('keeps name, message and a string code', () => {
    const error = Object.assign(new RangeError('too big'), { code: 'E_BIG' })
    expect(reportedError(error)).toEqual({ name: 'RangeError', message: 'too big', code: 'E_BIG' })
    expect(reportedError({ name: 7, message: 8, code: 9 })).toEqual({
      name: 'Error',
      message: '[object Object]',
    })
    expect(reportedError(undefined)).toEqual({ name: 'Error', message: 'undefined' })
  })

  it('names init failures as the Node.js runtime does', () => {
    const missing = Object.assign(new Error("Cannot find module 'x'"), { code: 'MODULE_NOT_FOUND' })
    expect(initFailure(missing)).toMatchObject({
      name: 'Runtime.ImportModuleError',
      message: "Error: Cannot find module 'x'",
    })
    expect(initFailure(new SyntaxError('Unexpected end of input'))).toMatchObject({
      name: 'Runtime.UserCodeSyntaxError',
      message: 'SyntaxError: Unexpected end of input',
    })
    expect(initFailure(new TypeError('boom'))).toEqual({ name: 'TypeError', message: 'boom' })
  })
})

describe('calling a handler', () => {
  it('finds the export or fails as Runtime.HandlerNotFound', () => {
    const fn = async () => 1
    expect(findHandler({ handler: fn }, 'handler', 'index.handler')).toBe(fn)
    expect(() => findHandler({ handler: 1 }, 'handler', 'index.handler')).toThrowError(
      expect.objectContaining({
        name: 'Runtime.HandlerNotFound',
        message: 'index.handler is undefined or not exported',
      }),
    )
  })

  it('takes the result of an async handler, and a sync throw as a rejection', async () => {
    await expect(callHandler(async (event) => event, 'e', {})).resolves.toBe('e')
    const throwing = () => {
      throw new Error('sync')
    }
    await expect(callHandler(throwing, 'e', {})).rejects.toThrow('sync')
  })

  it('takes a callback handler result from the callback, or from a returned promise', async () => {
    await expect(callHandler((_e, _c, callback) => callback?.(null, 'cb'), 'e', {})).resolves.toBe('cb')
    await expect(
      callHandler((_e, _c, callback) => callback?.(new Error('cb failed')), 'e', {}),
    ).rejects.toThrow('cb failed')
    await expect(callHandler(async (_e, _c, _callback) => 'returned', 'e', {})).resolves.toBe('returned')
    await expect(
      callHandler(async (_e, _c, _callback) => Promise.reject(new Error('async failed')), 'e', {}),
    ).rejects.toThrow('async failed')
  })
})

describe('locating the runner', () => {
  it('finds the built runner of this package', () => {
    expect(testingPackageDir()).toMatch(/packages\/testing$/)
    expect(runnerPath()).toMatch(/packages\/testing\/dist\/runner\.js$/)
  })

  it('says to run the build when the runner is missing', () => {
    const packageDir = join(scratch, 'unbuilt')
    mkdirSync(packageDir)
    writeFileSync(join(packageDir, 'package.json'), '{}')
    expect(() => runnerPath(packageDir)).toThrowError(
      expect.objectContaining({
        code: 'ERR_RUNNER_NOT_BUILT',
        message: expect.stringContaining('run the build first'),
      }),
    )
  })
})
