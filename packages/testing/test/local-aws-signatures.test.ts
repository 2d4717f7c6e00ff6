import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { type LocalAws, type LocalAwsFault, startLocalAws } from '@warmstart/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

let aws: LocalAws
const clients: { destroy(): void }[] = []

beforeAll(async () => {
  aws = await startLocalAws({
    verifySignatures: true,
    sessionToken: 'the-token',
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

function ssm(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  const client = new SSMClient({ ...aws.clientConfig, credentials, maxAttempts: 1 })
  clients.push(client)
  return client
}

const post = (headers: Record<string, string>) =>
  fetch(aws.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AmazonSSM.GetParameter',
      ...headers,
    },
    body: '{"Name":"/app/url"}',
  }).then(async (response) => ({ status: response.status, json: await response.json() }))

describe('startLocalAws({ verifySignatures })', () => {
  it('verifies the SDK’s signatures in full, with the session token, for both services', async () => {
    const client = ssm(aws.clientConfig.credentials)
    const output = await client.send(new GetParameterCommand({ Name: '/app/url' }))
    expect(output.Parameter?.Value).toBe('https://example.test')
    const secrets = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 })
    clients.push(secrets)
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: 'app/db' }))).SecretString).toBe(
      's3cret',
    )
    expect(aws.calls.map((call) => call.signature)).toEqual(['verified', 'verified'])
    expect(aws.env.AWS_SESSION_TOKEN).toBe('the-token')
  })

  it('answers a wrong secret, a wrong or missing token as the services do, and records the request', async () => {
    const { accessKeyId, secretAccessKey } = aws.clientConfig.credentials
    const send = (credentials: Parameters<typeof ssm>[0]) =>
      ssm(credentials)
        .send(new GetParameterCommand({ Name: '/app/url' }))
        .catch((e: Error) => e.name)
    expect(await send({ accessKeyId, secretAccessKey: 'wrong', sessionToken: 'the-token' })).toBe(
      'InvalidSignatureException',
    )
    expect(await send({ accessKeyId, secretAccessKey, sessionToken: 'stale' })).toBe(
      'UnrecognizedClientException',
    )
    expect(await send({ accessKeyId, secretAccessKey })).toBe('UnrecognizedClientException')
    expect(aws.calls.map((call) => call.signature)).toEqual(['rejected', 'rejected', 'rejected'])
  })

  it('checks only the shape of a signature made with other credentials', async () => {
    const output = await ssm({ accessKeyId: 'local', secretAccessKey: 'local' }).send(
      new GetParameterCommand({ Name: '/app/url' }),
    )
    expect(output.Parameter?.Value).toBe('https://example.test')
    expect(aws.calls[0]?.signature).toBe('shape-only')
  })

  it('answers unsigned and half-signed requests before any fault', async () => {
    aws.injectFault({ kind: 'throttle', times: 10 })
    expect(await post({})).toMatchObject({
      status: 400,
      json: { __type: 'MissingAuthenticationTokenException' },
    })
    expect(await post({ authorization: 'AWS4-HMAC-SHA256 nonsense' })).toMatchObject({
      json: { __type: 'IncompleteSignatureException' },
    })
    const day = '20260101'
    const auth = (service: string, signed: string) =>
      `AWS4-HMAC-SHA256 Credential=other/${day}/us-east-1/${service}/aws4_request, SignedHeaders=${signed}, Signature=${'0'.repeat(64)}`
    expect(
      await post({
        authorization: auth('secretsmanager', 'host;x-amz-date'),
        'x-amz-date': `${day}T000000Z`,
      }),
    ).toMatchObject({
      status: 403,
      json: { __type: 'InvalidSignatureException' },
    })
    expect(await post({ authorization: auth('ssm', 'host'), 'x-amz-date': `${day}T000000Z` })).toMatchObject({
      status: 403,
      json: { __type: 'InvalidSignatureException' },
    })
    expect(
      await post({ authorization: auth('ssm', 'host;x-amz-date'), 'x-amz-date': `${day}T000000Z` }),
    ).toMatchObject({
      status: 400,
      json: { __type: 'ThrottlingException' }, // shape-only passes, then the fault applies
    })
  })

  it('refuses bad options', async () => {
    await expect(startLocalAws({ verifySignatures: 'yes' as never })).rejects.toThrow(/verifySignatures/)
    await expect(startLocalAws({ sessionToken: '' })).rejects.toThrow(/sessionToken/)
  })
})

describe("the 'respond' fault", () => {
  it('answers the body and status given, once', async () => {
    aws.injectFault({ kind: 'respond', status: 400, body: '{"__type":"AccessDeniedException"}' })
    const client = ssm(aws.clientConfig.credentials)
    await expect(client.send(new GetParameterCommand({ Name: '/app/url' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    })
    expect((await client.send(new GetParameterCommand({ Name: '/app/url' }))).Parameter?.Value).toBe(
      'https://example.test',
    )
  })

  it.each<[LocalAwsFault, RegExp]>([
    [{ kind: 'respond' }, /option "body" is required for kind 'respond'/],
    [{ kind: 'throttle', body: '{}' }, /option "body" applies to kind 'respond' only/],
    [{ kind: 'throttle', status: 500 }, /option "status" applies to kind 'respond' only/],
    [{ kind: 'throttle', headers: {} }, /option "headers" applies to kind 'respond' only/],
    [{ kind: 'respond', body: '', status: 99 }, /option "status" must be an HTTP status/],
  ])('refuses %j', (fault, message) => {
    expect(() => aws.injectFault(fault)).toThrow(message)
  })
})
