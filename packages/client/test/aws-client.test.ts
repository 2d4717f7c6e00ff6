import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { awsClient } from '@warmstart/client'
import { type LocalAws, startLocalAws } from '@warmstart/testing'
import { recordEvents } from '@warmstart/testing/doubles'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

let aws: LocalAws
const savedRegion = process.env.AWS_REGION

beforeAll(async () => {
  aws = await startLocalAws({ parameters: { '/app/greeting': 'hello' } })
})
afterAll(async () => {
  await aws.stop()
})
afterEach(() => {
  aws.clearFaults()
  aws.resetCalls()
  if (savedRegion === undefined) delete process.env.AWS_REGION
  else process.env.AWS_REGION = savedRegion
})

/** The options the SDK's Node HTTP handler was built with (it keeps them behind a promise). */
async function handlerOptions(client: SSMClient): Promise<Record<string, unknown>> {
  const handler = client.config.requestHandler as unknown as {
    configProvider: Promise<Record<string, unknown>>
  }
  return handler.configProvider
}

describe('awsClient', () => {
  it('returns one client per class and equal config, and that client talks to the endpoint', async () => {
    const recorder = recordEvents('client.created')
    const first = awsClient(SSMClient, { ...aws.clientConfig })
    const reordered = awsClient(SSMClient, {
      credentials: { ...aws.clientConfig.credentials },
      region: aws.clientConfig.region,
      endpoint: aws.clientConfig.endpoint,
    })
    recorder.stop()
    expect(reordered).toBe(first)
    expect(recorder.events).toMatchObject([{ name: 'aws:SSMClient', durationMs: expect.any(Number) }])
    const answer = await first.send(new GetParameterCommand({ Name: '/app/greeting' }))
    expect(answer.Parameter?.Value).toBe('hello')
    expect(aws.callCount({ service: 'ssm', operation: 'GetParameter' })).toBe(1)
  })

  it('gives a different client for a different config or class', () => {
    const base = awsClient(SSMClient, { ...aws.clientConfig })
    expect(awsClient(SSMClient, { ...aws.clientConfig, maxAttempts: 5 })).not.toBe(base)
    expect(awsClient(SSMClient, { ...aws.clientConfig, region: 'ap-south-1' })).not.toBe(base)
    expect(awsClient(SecretsManagerClient, { ...aws.clientConfig })).not.toBe(base)
    expect(awsClient(SecretsManagerClient, { ...aws.clientConfig })).toBeInstanceOf(SecretsManagerClient)
  })

  it('compares functions in the config by identity', () => {
    const credentials = async () => ({ ...aws.clientConfig.credentials })
    const a = awsClient(SSMClient, { ...aws.clientConfig, credentials })
    expect(awsClient(SSMClient, { ...aws.clientConfig, credentials })).toBe(a)
    expect(
      awsClient(SSMClient, {
        ...aws.clientConfig,
        credentials: async () => ({ ...aws.clientConfig.credentials }),
      }),
    ).not.toBe(a)
  })

  it('fills in Lambda defaults: region from AWS_REGION, 3 attempts, connect and request timeouts', async () => {
    process.env.AWS_REGION = 'eu-central-1'
    const client = awsClient(SSMClient)
    expect(awsClient(SSMClient, {})).toBe(client)
    expect(awsClient(SSMClient, { region: undefined })).toBe(client)
    expect(await client.config.region()).toBe('eu-central-1')
    expect(await client.config.maxAttempts()).toBe(3)
    expect(await handlerOptions(client)).toMatchObject({
      connectionTimeout: 1000,
      requestTimeout: 3000,
      throwOnRequestTimeout: true,
    })
    process.env.AWS_REGION = 'ap-south-1'
    const elsewhere = awsClient(SSMClient)
    expect(elsewhere).not.toBe(client)
    expect(await elsewhere.config.region()).toBe('ap-south-1')
  })

  it("keeps the caller's settings over the defaults and completes plain handler options", async () => {
    process.env.AWS_REGION = 'eu-central-1'
    const client = awsClient(SSMClient, {
      ...aws.clientConfig,
      maxAttempts: 1,
      requestHandler: { requestTimeout: 250 },
    })
    expect(await client.config.region()).toBe(aws.clientConfig.region)
    expect(await client.config.maxAttempts()).toBe(1)
    expect(await handlerOptions(client)).toMatchObject({ connectionTimeout: 1000, requestTimeout: 250 })
  })

  it('gives up on a hung endpoint after the request timeout instead of waiting for the function timeout', async () => {
    const client = awsClient(SSMClient, { ...aws.clientConfig, requestHandler: { requestTimeout: 200 } })
    aws.injectFault({ service: 'ssm', kind: 'hang', times: Number.POSITIVE_INFINITY })
    await expect(client.send(new GetParameterCommand({ Name: '/app/greeting' }))).rejects.toMatchObject({
      name: 'TimeoutError',
    })
    expect(aws.callCount({ service: 'ssm' })).toBe(3)
  })

  it('uses a request handler instance as it is', () => {
    const handler = { handle: async () => ({ response: {} }), metadata: { handlerProtocol: 'h1' } }
    const client = awsClient(SSMClient, { ...aws.clientConfig, requestHandler: handler })
    expect(client.config.requestHandler).toBe(handler)
  })

  it('rejects what is not a client class or a config object', () => {
    expect(() => awsClient(undefined as unknown as typeof SSMClient)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining('"ClientClass"'),
      }),
    )
    for (const config of [null, 'eu-west-1', []]) {
      expect(() => awsClient(SSMClient, config as unknown as object)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('"config"') }),
      )
    }
  })
})
