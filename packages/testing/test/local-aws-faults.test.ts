import {
  GetSecretValueCommand,
  InternalServiceError,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager'
import {
  GetParameterCommand,
  GetParametersCommand,
  InternalServerError,
  SSMClient,
  ThrottlingException,
} from '@aws-sdk/client-ssm'
import { type LocalAws, startLocalAws } from '@warmstart/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'

let aws: LocalAws
const clients: { destroy(): void }[] = []

beforeAll(async () => {
  aws = await startLocalAws({
    parameters: { '/app/url': 'https://example.test' },
    secrets: { 'app/db': 's3cret' },
  })
})

afterEach(() => {
  aws.clearFaults()
  aws.resetCalls()
})

afterAll(async () => {
  for (const client of clients) client.destroy()
  await aws.stop()
})

type HandlerOptions = { requestTimeout?: number; throwOnRequestTimeout?: boolean }

function ssmClient(options: { maxAttempts?: number; requestHandler?: HandlerOptions } = {}): SSMClient {
  const client = new SSMClient({ ...aws.clientConfig, ...options })
  clients.push(client)
  return client
}

function secretsClient(options: { maxAttempts?: number } = {}): SecretsManagerClient {
  const client = new SecretsManagerClient({ ...aws.clientConfig, ...options })
  clients.push(client)
  return client
}

const getUrl = (client: SSMClient) => client.send(new GetParameterCommand({ Name: '/app/url' }))
const getDb = (client: SecretsManagerClient) => client.send(new GetSecretValueCommand({ SecretId: 'app/db' }))

describe('throttling and server errors', () => {
  it('answers an SSM throttle as the real service: 400 ThrottlingException "Rate exceeded"', async () => {
    aws.injectFault({ kind: 'throttle' })
    const error = await getUrl(ssmClient({ maxAttempts: 1 })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ThrottlingException)
    expect((error as ThrottlingException).message).toBe('Rate exceeded')
    expect((error as ThrottlingException).$metadata.httpStatusCode).toBe(400)
  })

  it('answers a Secrets Manager throttle with the same code, which its SDK has no class for', async () => {
    aws.injectFault({ service: 'secretsmanager', kind: 'throttle' })
    const error = await getDb(secretsClient({ maxAttempts: 1 })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SecretsManagerServiceException)
    expect(error).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' })
    expect((error as SecretsManagerServiceException).$metadata.httpStatusCode).toBe(400)
  })

  it('answers server errors as 500 InternalServerError (SSM) and InternalServiceError (Secrets Manager)', async () => {
    aws.injectFault({ kind: 'server-error', times: 2 })
    const ssmError = await getUrl(ssmClient({ maxAttempts: 1 })).catch((e: unknown) => e)
    expect(ssmError).toBeInstanceOf(InternalServerError)
    expect((ssmError as InternalServerError).$metadata.httpStatusCode).toBe(500)
    const secretsError = await getDb(secretsClient({ maxAttempts: 1 })).catch((e: unknown) => e)
    expect(secretsError).toBeInstanceOf(InternalServiceError)
    expect((secretsError as InternalServiceError).$metadata.httpStatusCode).toBe(500)
  })

  it('is retried by the SDK itself: one throttle costs two calls at the server and the caller succeeds', async () => {
    aws.injectFault({ kind: 'throttle' })
    expect((await getUrl(ssmClient())).Parameter?.Value).toBe('https://example.test')
    expect(aws.callCount({ operation: 'GetParameter' })).toBe(2)

    aws.injectFault({ service: 'secretsmanager', kind: 'server-error' })
    expect((await getDb(secretsClient())).SecretString).toBe('s3cret')
    expect(aws.callCount({ service: 'secretsmanager' })).toBe(2)
  })

  it('fails every attempt until cleared when times is Infinity', async () => {
    aws.injectFault({ kind: 'server-error', times: Number.POSITIVE_INFINITY })
    const client = ssmClient({ maxAttempts: 2 })
    await expect(getUrl(client)).rejects.toBeInstanceOf(InternalServerError)
    await expect(getUrl(client)).rejects.toBeInstanceOf(InternalServerError)
    expect(aws.callCount()).toBe(4)
    aws.clearFaults()
    expect((await getUrl(client)).Parameter?.Value).toBe('https://example.test')
  })

  it('affects only the service and operation it is scoped to, for as many requests as told', async () => {
    aws.injectFault({ service: 'ssm', operation: 'GetParameters', kind: 'throttle', times: 2 })
    const client = ssmClient({ maxAttempts: 1 })
    expect((await getUrl(client)).Parameter?.Value).toBe('https://example.test')
    expect((await getDb(secretsClient({ maxAttempts: 1 }))).SecretString).toBe('s3cret')
    const getMany = () => client.send(new GetParametersCommand({ Names: ['/app/url'] }))
    await expect(getMany()).rejects.toBeInstanceOf(ThrottlingException)
    await expect(getMany()).rejects.toBeInstanceOf(ThrottlingException)
    expect((await getMany()).Parameters).toHaveLength(1)
  })

  it('applies the first matching failure and keeps later ones for later requests', async () => {
    aws.injectFault({ kind: 'throttle' })
    aws.injectFault({ kind: 'server-error' })
    const client = ssmClient({ maxAttempts: 1 })
    await expect(getUrl(client)).rejects.toBeInstanceOf(ThrottlingException)
    await expect(getUrl(client)).rejects.toBeInstanceOf(InternalServerError)
    expect((await getUrl(client)).Parameter?.Value).toBe('https://example.test')
  })
})

describe('latency, hangs and drops', () => {
  it('adds latency before the answer: a client that waits gets the value, an impatient one times out', async () => {
    aws.injectFault({ kind: 'latency', latencyMs: 50 })
    expect((await getUrl(ssmClient())).Parameter?.Value).toBe('https://example.test')

    aws.injectFault({ kind: 'latency', latencyMs: 2_000 })
    const impatient = ssmClient({
      maxAttempts: 1,
      requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true },
    })
    await expect(getUrl(impatient)).rejects.toMatchObject({ name: 'TimeoutError' })
  })

  it('adds latency to a failure injected with it', async () => {
    aws.injectFault({ kind: 'latency', latencyMs: 20 })
    aws.injectFault({ kind: 'throttle' })
    await expect(getUrl(ssmClient({ maxAttempts: 1 }))).rejects.toBeInstanceOf(ThrottlingException)
    expect((await getUrl(ssmClient({ maxAttempts: 1 }))).Parameter?.Value).toBe('https://example.test')
  })

  it('hangs until the client gives up: a clear TimeoutError, and one recorded call', async () => {
    aws.injectFault({ kind: 'hang' })
    const client = ssmClient({
      maxAttempts: 1,
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    })
    const error = await getUrl(client).catch((e: unknown) => e)
    expect(error).toMatchObject({
      name: 'TimeoutError',
      message: expect.stringMatching(/200 ms requestTimeout/),
    })
    expect(aws.callCount({ operation: 'GetParameter' })).toBe(1)
    expect((await getUrl(client)).Parameter?.Value).toBe('https://example.test')
  })

  it('hangs until an AbortSignal fires', async () => {
    aws.injectFault({ service: 'secretsmanager', kind: 'hang' })
    const client = secretsClient({ maxAttempts: 1 })
    const error = await client
      .send(new GetSecretValueCommand({ SecretId: 'app/db' }), { abortSignal: AbortSignal.timeout(100) })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'AbortError' })
  })

  it('is retried by the SDK after a timeout, so a single hang costs two calls', async () => {
    aws.injectFault({ kind: 'hang' })
    const client = ssmClient({ requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true } })
    expect((await getUrl(client)).Parameter?.Value).toBe('https://example.test')
    expect(aws.callCount()).toBe(2)
  })

  it('drops the connection without an answer; the SDK retries a dropped request', async () => {
    aws.injectFault({ kind: 'drop' })
    const error = await getUrl(ssmClient({ maxAttempts: 1 })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(String((error as NodeJS.ErrnoException).code ?? (error as Error).message)).toMatch(
      /ECONNRESET|socket hang up/,
    )

    aws.injectFault({ kind: 'drop' })
    expect((await getUrl(ssmClient())).Parameter?.Value).toBe('https://example.test')
    expect(aws.callCount()).toBe(3)
  })
})

describe('stop', () => {
  it('ends a hung request and keep-alive connections instead of waiting for them', async () => {
    const own = await startLocalAws({ parameters: { '/x': 'y' } })
    const client = new SSMClient({ ...own.clientConfig, maxAttempts: 1 })
    try {
      expect((await client.send(new GetParameterCommand({ Name: '/x' }))).Parameter?.Value).toBe('y')
      own.injectFault({ kind: 'hang', times: Number.POSITIVE_INFINITY })
      own.injectFault({ kind: 'latency', latencyMs: 60_000 })
      const hung = client.send(new GetParameterCommand({ Name: '/x' })).catch((e: unknown) => e)
      await vi.waitFor(() => expect(own.callCount()).toBe(2))
      await own.stop()
      expect(await hung).toBeInstanceOf(Error)
      await own.stop() // stopping twice is harmless
      await expect(client.send(new GetParameterCommand({ Name: '/x' }))).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      })
    } finally {
      client.destroy()
      await own.stop()
    }
  })
})

describe('recorded calls', () => {
  it('records service, operation, the names asked for and the time, faulted requests included', async () => {
    const client = ssmClient({ maxAttempts: 1 })
    aws.injectFault({ kind: 'throttle' })
    await expect(client.send(new GetParametersCommand({ Names: ['/a', '/b'] }))).rejects.toBeInstanceOf(
      ThrottlingException,
    )
    await getDb(secretsClient())
    const before = Date.now()
    expect(aws.calls).toEqual([
      { service: 'ssm', operation: 'GetParameters', names: ['/a', '/b'], time: expect.any(Number) },
      { service: 'secretsmanager', operation: 'GetSecretValue', names: ['app/db'], time: expect.any(Number) },
    ])
    expect(aws.calls[1]?.time).toBeLessThanOrEqual(before)
    expect(aws.callCount()).toBe(2)
    expect(aws.callCount({ service: 'ssm' })).toBe(1)
    expect(aws.callCount({ operation: 'GetSecretValue' })).toBe(1)
    expect(aws.callCount({ service: 'ssm', operation: 'GetSecretValue' })).toBe(0)

    const snapshot = aws.calls
    aws.resetCalls()
    expect(aws.calls).toEqual([])
    expect(snapshot).toHaveLength(2)
    expect(Object.isFrozen(snapshot[0])).toBe(true)
  })
})
