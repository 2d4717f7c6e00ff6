import { dirname } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fixture, simulate } from './lambda-helpers.js'

const actions = `${fixture('actions.mjs')}#handler`

interface ContextReport {
  fields: Record<string, unknown>
  before: number
  after: number
  env: Record<string, string>
}

describe('simulateLambda: context and environment variables', () => {
  it("builds Lambda's context and sets Lambda's environment variables", async () => {
    process.env.AWS_SECRET_ACCESS_KEY_FOR_TEST = 'must-not-leak'
    try {
      const lambda = simulate({ handler: actions, memoryMB: 1024, timeout: '3s' })
      const { result, requestId } = await lambda.invoke({ action: 'context' })
      const { fields, before, after, env } = result as ContextReport
      const major = process.versions.node.split('.')[0]
      expect(fields).toMatchObject({
        awsRequestId: requestId,
        functionName: 'simulated-function',
        functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:simulated-function',
        memoryLimitInMB: '1024',
        logGroupName: '/aws/lambda/simulated-function',
        callbackWaitsForEmptyEventLoop: true,
      })
      expect(fields.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/)
      expect(before).toBeLessThanOrEqual(3000)
      expect(after).toBeLessThan(before)
      expect(env).toMatchObject({
        AWS_LAMBDA_FUNCTION_NAME: 'simulated-function',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${major}.x`,
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/simulated-function',
        AWS_LAMBDA_LOG_STREAM_NAME: fields.logStreamName,
        LAMBDA_TASK_ROOT: dirname(fixture('actions.mjs')),
        _HANDLER: 'actions.handler',
        TZ: ':UTC',
      })
      expect(env.AWS_SECRET_ACCESS_KEY_FOR_TEST).toBeUndefined()
      expect(env.AWS_LAMBDA_MAX_CONCURRENCY).toBeUndefined()
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY_FOR_TEST
    }
  })

  it('lets env override what Lambda sets, and sets initType', async () => {
    const lambda = simulate({
      handler: actions,
      initType: 'provisioned-concurrency',
      env: { AWS_LAMBDA_FUNCTION_NAME: 'orders', AWS_REGION: 'eu-west-1', CUSTOM_FLAG: 'on' },
    })
    const { fields, env } = (await lambda.invoke({ action: 'context' })).result as ContextReport
    expect(fields).toMatchObject({
      functionName: 'orders',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders',
      logGroupName: '/aws/lambda/orders',
    })
    expect(env).toMatchObject({
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency',
      CUSTOM_FLAG: 'on',
    })
  })

  it('gives each environment its own log stream', async () => {
    const lambda = simulate({ handler: actions })
    const burst = await lambda.burst([{ action: 'context' }, { action: 'context' }])
    const streams = burst.map((invocation) => (invocation.result as ContextReport).fields.logStreamName)
    expect(streams[0]).not.toBe(streams[1])
  })

  it('passes execArgv to the environment processes', async () => {
    const lambda = simulate({ handler: actions, execArgv: ['--max-old-space-size=200'] })
    const { env } = (await lambda.invoke({ action: 'context' })).result as ContextReport
    expect(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE).toBe('512')
    expect((await lambda.invoke({ action: 'execArgv' })).result).toEqual(['--max-old-space-size=200'])
  })
})

describe('simulateLambda: logs', () => {
  it('attributes stdout and stderr lines to the invocation that printed them', async () => {
    const lambda = simulate({ handler: actions })
    const logged = await lambda.invoke({ action: 'log' })
    // stdout and stderr are two pipes: lines keep their order within a stream only.
    expect([...logged.logs].sort()).toEqual(['partial line', 'to stderr', 'to stdout 1'])
    expect((await lambda.invoke({ action: 'count' })).logs).toEqual([])
  })
})
