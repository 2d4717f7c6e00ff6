// The same suite against both transports, through the public providers and the backend interface:
// the SDK path (a caller's client) and the default path (SigV4 over node:http), both against the
// local endpoint with signature checks on, so the default path's signing is verified in full.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import {
  FetchError,
  MalformedResponseError,
  ParameterNotFoundError,
  SecretNotFoundError,
  secretsManager,
  ssmParameters,
} from '@warmstart/params'
import { fromSecretsManagerClient } from '@warmstart/params/secrets-manager-sdk'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
import { type LocalAws, startLocalAws } from '@warmstart/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  type SecretsManagerSdkClient,
  type SsmSdkClient,
  secretsBackend,
  ssmBackend,
} from '../src/backend/index.js'

const SESSION_TOKEN = 'session-token-of-the-environment'
const names = Array.from({ length: 25 }, (_, i) => `/many/p${String(i).padStart(2, '0')}`)
const ids = Array.from({ length: 25 }, (_, i) => `svc/s${i}`)

let aws: LocalAws
let ssmClient: SSMClient
let secretsClient: SecretsManagerClient
const savedEnv = { ...process.env }

beforeAll(async () => {
  aws = await startLocalAws({
    verifySignatures: true,
    sessionToken: SESSION_TOKEN,
    parameters: {
      '/app/url': 'https://example.test',
      '/app/hosts': { value: 'a.test,b.test', type: 'StringList' },
      '/app/db/password': { value: 'hunter2', type: 'SecureString' },
      '/app/flags': '{"on":true}',
      ...Object.fromEntries(names.map((name, i) => [name, `value-${i}`])),
      ...Object.fromEntries(
        Array.from({ length: 23 }, (_, i) => [`/paged/${i < 20 ? '' : 'deep/'}k${i}`, `v${i}`]),
      ),
    },
    secrets: {
      'api/key': 'key-123',
      'db/credentials': '{"username":"app"}',
      'tls/cert': new Uint8Array([1, 2, 3]),
      ...Object.fromEntries(ids.map((id, i) => [id, `secret-${i}`])),
    },
  })
  // The default path takes what the Lambda runtime gives: credentials and region in the environment.
  Object.assign(process.env, aws.env)
  for (const name of ['AWS_ENDPOINT_URL_SSM', 'AWS_ENDPOINT_URL_SECRETS_MANAGER']) delete process.env[name]
  ssmClient = new SSMClient({ ...aws.clientConfig })
  secretsClient = new SecretsManagerClient({ ...aws.clientConfig })
})

afterAll(async () => {
  ssmClient.destroy()
  secretsClient.destroy()
  process.env = savedEnv
  await aws.stop()
})

beforeEach(() => {
  aws.clearFaults()
  aws.resetCalls()
})

const count = (operation: string) => aws.callCount({ operation })
const respond = (operation: string, body: string, status = 200) =>
  aws.injectFault({ operation, kind: 'respond', body, status })

interface Path {
  readonly ssm: { client: SsmSdkClient } | { endpoint: string }
  readonly secrets: { client: SecretsManagerSdkClient } | { endpoint: string }
}

const paths: [string, () => Path][] = [
  [
    'the SDK path',
    () => ({
      ssm: { client: fromSsmClient(ssmClient) },
      secrets: { client: fromSecretsManagerClient(secretsClient) },
    }),
  ],
  ['the default HTTP path', () => ({ ssm: { endpoint: aws.endpoint }, secrets: { endpoint: aws.endpoint } })],
]

describe.each(paths)('%s', (_, path) => {
  const ssm = (options: object = {}) => ssmParameters({ ...path().ssm, ...options })
  const secrets = (options: object = {}) => secretsManager({ ...path().secrets, ...options })

  it('reads every kind of value, each request signed with the session token and verified', async () => {
    const params = ssm()
    expect(await params.get('/app/url')).toBe('https://example.test')
    expect(await params.get<string[]>('/app/hosts')).toEqual(['a.test', 'b.test'])
    expect(await params.get('/app/db/password')).toBe('hunter2')
    expect(await params.get('/app/db/password', { decrypt: false })).not.toBe('hunter2')
    expect(await params.get('/app/flags', { transform: 'json' })).toEqual({ on: true })
    const sm = secrets()
    expect(await sm.get('api/key')).toBe('key-123')
    expect(await sm.get<Uint8Array>('tls/cert')).toEqual(new Uint8Array([1, 2, 3]))
    expect(await sm.get('db/credentials', { transform: 'json' })).toEqual({ username: 'app' })
    expect(await sm.get('api/key', { versionStage: 'AWSCURRENT', ttl: 1 })).toBe('key-123')
    expect(aws.calls.length).toBeGreaterThanOrEqual(9)
    expect(aws.calls.every((call) => call.signature === 'verified')).toBe(true)
  })

  it('batches 10 names per GetParameters and 20 ids per BatchGetSecretValue', async () => {
    const values = await ssm().getMany(names)
    expect(values['/many/p24']).toBe('value-24')
    expect(aws.calls.map((call) => call.names.length)).toEqual([10, 10, 5])
    aws.resetCalls()
    const secretValues = await secrets().getMany(ids)
    expect(secretValues['svc/s24']).toBe('secret-24')
    expect(aws.calls.map((call) => [call.operation, call.names.length])).toEqual([
      ['BatchGetSecretValue', 20],
      ['BatchGetSecretValue', 5],
    ])
  })

  it('pages through GetParametersByPath, 10 a page', async () => {
    const all = await ssm().getByPath('/paged')
    expect(Object.keys(all)).toHaveLength(23)
    expect(all['/paged/deep/k22']).toBe('v22')
    expect(count('GetParametersByPath')).toBe(3)
    expect(Object.keys(await ssm().getByPath('/paged', { recursive: false }))).toHaveLength(20)
  })

  it('ends a GetParametersByPath whose NextToken comes back again with MalformedResponseError', async () => {
    // Each page hands back a token already followed: paging on would ask for the same pages until
    // the fetch's budget ran out.
    aws.injectFault({
      operation: 'GetParametersByPath',
      kind: 'respond',
      body: '{"Parameters":[{"Name":"/paged/k1","Value":"v1","Type":"String"}],"NextToken":"again"}',
      times: Number.POSITIVE_INFINITY,
    })
    const error = await ssm({ fetchTimeout: '1s' })
      .getByPath('/paged')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MalformedResponseError)
    expect(error).toMatchObject({ operation: 'GetParametersByPath' })
    expect(count('GetParametersByPath')).toBe(2)
  })

  it('answers getMany by every name asked for, __proto__ and constructor included', async () => {
    // Names both services allow; a name that is not a key of a plain object loses its value.
    const hostile = ['__proto__', 'constructor', 'hasOwnProperty']
    for (const name of hostile) {
      aws.putParameter(name, `{"param":"${name}"}`)
      aws.putSecret(name, `{"secret":"${name}"}`)
    }
    const expected = (kind: string) => Object.fromEntries(hostile.map((name) => [name, { [kind]: name }]))
    const params = await ssm().getMany(hostile, { transform: 'json' })
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype)
    expect(Object.keys(params)).toEqual(hostile)
    expect(params).toEqual(expected('param'))
    const values = await secrets().getMany(hostile, { transform: 'json' })
    expect(Object.keys(values)).toEqual(hostile)
    expect(values).toEqual(expected('secret'))
    // A path's record too, whatever names an answer carries.
    respond(
      'GetParametersByPath',
      '{"Parameters":[{"Name":"__proto__","Value":"{\\"admin\\":true}","Type":"String"}]}',
    )
    const record = await ssm().getByPath('/odd', { transform: 'json' })
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype)
    expect(Object.keys(record)).toEqual(['__proto__'])
    expect((record as { admin?: unknown }).admin).toBeUndefined()
  })

  it('maps missing names and ids to the typed not-found errors', async () => {
    const params = ssm()
    await expect(params.get('/nope')).rejects.toBeInstanceOf(ParameterNotFoundError)
    expect(await params.get('/nope', { optional: true })).toBeUndefined()
    await expect(params.getMany(['/app/url', '/nope/1', '/nope/2'])).rejects.toMatchObject({
      names: ['/nope/1', '/nope/2'],
    })
    const sm = secrets()
    await expect(sm.get('nope/x')).rejects.toBeInstanceOf(SecretNotFoundError)
    await expect(sm.getMany(['api/key', 'nope/y'])).rejects.toMatchObject({ ids: ['nope/y'] })
    await expect(sm.get('nope/z', { versionStage: 'AWSPREVIOUS' })).rejects.toBeInstanceOf(
      SecretNotFoundError,
    )
  })

  it('retries throttling and 5xx (3 attempts, counted at the server), then fails with FetchError', async () => {
    aws.injectFault({ service: 'ssm', kind: 'throttle', times: 2 })
    expect(await ssm().get('/app/url')).toBe('https://example.test')
    expect(count('GetParameters')).toBe(3)
    aws.resetCalls()
    aws.injectFault({ service: 'secretsmanager', kind: 'server-error', times: Number.POSITIVE_INFINITY })
    const error = await secrets()
      .get('api/key')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FetchError)
    expect(error).toMatchObject({ code: 'ERR_PARAMS_FETCH', reason: 'InternalServiceError' })
    expect((error as Error).cause).toMatchObject({
      name: 'InternalServiceError',
      $metadata: { httpStatusCode: 500 },
    })
    expect(count('GetSecretValue')).toBe(3)
  })

  it('does not retry a client error: AccessDenied and a wrong session token fail at once', async () => {
    respond('GetParameters', '{"__type":"AccessDeniedException","message":"not authorized"}', 400)
    await expect(ssm().get('/app/url')).rejects.toMatchObject({ reason: 'AccessDeniedException' })
    expect(count('GetParameters')).toBe(1)
  })

  it('falls back to GetSecretValue when BatchGetSecretValue is denied, and stays there', async () => {
    respond('BatchGetSecretValue', '{"__type":"AccessDeniedException","Message":"not authorized"}', 400)
    const sm = secrets()
    expect(await sm.getMany(['svc/s1', 'svc/s2'])).toEqual({ 'svc/s1': 'secret-1', 'svc/s2': 'secret-2' })
    expect(await sm.getMany(['svc/s3', 'svc/s4'])).toEqual({ 'svc/s3': 'secret-3', 'svc/s4': 'secret-4' })
    expect([count('BatchGetSecretValue'), count('GetSecretValue')]).toEqual([1, 4])
  })

  it.each([
    ['GetParameters', 'not json at all'],
    ['GetParameters', '{"Parameters":[{"Name":"/app/url","Type":"String"}],"InvalidParameters":[]}'],
    ['GetParameters', '{"Parameters":[],"InvalidParameters":[]}'],
    ['GetSecretValue', '{"Name":"api/key"}'],
  ])(
    'answers a malformed %s (%s) with MalformedResponseError, never a cached value',
    async (operation, body) => {
      respond(operation, body)
      const params = ssm()
      const sm = secrets()
      const read = (name: string): Promise<unknown> =>
        operation === 'GetParameters' ? params.get(name) : sm.get(name)
      const name = operation === 'GetParameters' ? '/app/url' : 'api/key'
      const error = await read(name).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(MalformedResponseError)
      expect(error).toMatchObject({ code: 'ERR_PARAMS_MALFORMED_RESPONSE', operation })
      expect((error as Error).message).not.toContain('https://example.test')
      expect(await read(name)).toBe(operation === 'GetParameters' ? 'https://example.test' : 'key-123')
    },
  )

  it('answers a malformed entry of a batch for that entry only', async () => {
    respond(
      'BatchGetSecretValue',
      '{"SecretValues":[{"Name":"svc/s1","SecretString":"secret-1"},{"Name":"svc/s2"}],"Errors":[]}',
    )
    const sm = secrets()
    const [one, two, three] = await Promise.allSettled([sm.get('svc/s1'), sm.get('svc/s2'), sm.get('svc/s3')])
    expect(one).toEqual({ status: 'fulfilled', value: 'secret-1' })
    expect(two).toMatchObject({ status: 'rejected', reason: { code: 'ERR_PARAMS_MALFORMED_RESPONSE' } })
    expect(three).toMatchObject({ status: 'rejected', reason: { code: 'ERR_PARAMS_MALFORMED_RESPONSE' } })
    respond('GetParametersByPath', '{"Parameters":[{"Name":"/paged/k1"}]}')
    await expect(ssm().getByPath('/paged')).rejects.toBeInstanceOf(MalformedResponseError)
    respond('GetParametersByPath', '{"Parameters":[{"Value":"v1"}]}')
    await expect(ssm().getByPath('/paged')).rejects.toMatchObject({ operation: 'GetParametersByPath' })
  })

  it('answers a null entry of a batch as malformed for the names it left unanswered, and serves the rest', async () => {
    respond(
      'GetParameters',
      '{"Parameters":[null,{"Name":"/app/url","Value":"https://example.test","Type":"String"}],"InvalidParameters":[]}',
    )
    const params = ssm()
    const [url, flags] = await Promise.allSettled([params.get('/app/url'), params.get('/app/flags')])
    expect(url).toEqual({ status: 'fulfilled', value: 'https://example.test' })
    expect(flags).toMatchObject({ status: 'rejected', reason: { code: 'ERR_PARAMS_MALFORMED_RESPONSE' } })
    respond(
      'BatchGetSecretValue',
      '{"SecretValues":[null,{"Name":"svc/s1","SecretString":"secret-1"}],"Errors":[null]}',
    )
    const sm = secrets()
    const [one, two] = await Promise.allSettled([sm.get('svc/s1'), sm.get('svc/s2')])
    expect(one).toEqual({ status: 'fulfilled', value: 'secret-1' })
    expect(two).toMatchObject({ status: 'rejected', reason: { code: 'ERR_PARAMS_MALFORMED_RESPONSE' } })
    respond('GetParametersByPath', '{"Parameters":[null]}')
    await expect(ssm().getByPath('/paged')).rejects.toBeInstanceOf(MalformedResponseError)
  })

  it('answers the failures a batch reports per id with their codes, and an empty batch answer as malformed', async () => {
    respond(
      'BatchGetSecretValue',
      '{"SecretValues":[],"Errors":[{"SecretId":"svc/s1","ErrorCode":"DecryptionFailure"},{"SecretId":"svc/s2"}]}',
    )
    const sm = secrets()
    const [one, two] = await Promise.allSettled([sm.get('svc/s1'), sm.get('svc/s2')])
    expect(one).toMatchObject({ status: 'rejected', reason: { reason: 'DecryptionFailure' } })
    expect(two).toMatchObject({ status: 'rejected', reason: { reason: 'Error' } })
    respond('BatchGetSecretValue', '{}')
    const outcomes = await Promise.allSettled([sm.get('svc/s3'), sm.get('svc/s4')])
    expect(outcomes).toMatchObject([
      { reason: { code: 'ERR_PARAMS_MALFORMED_RESPONSE' } },
      { reason: { code: 'ERR_PARAMS_MALFORMED_RESPONSE' } },
    ])
  })
})

describe.each(paths)('the backend interface, %s', (_, path) => {
  const ssm = () => ssmBackend('test', path().ssm)
  const secrets = () => secretsBackend('test', path().secrets)

  it('speaks the five operations', async () => {
    const signal = new AbortController().signal
    expect(await ssm().getParameter({ Name: '/app/url', WithDecryption: true }, { signal })).toMatchObject({
      Parameter: { Name: '/app/url', Value: 'https://example.test' },
    })
    expect(
      await ssm().getParameters({ Names: ['/app/url', '/nope'], WithDecryption: true }, { signal }),
    ).toMatchObject({ Parameters: [{ Name: '/app/url' }], InvalidParameters: ['/nope'] })
    expect(
      await ssm().getParametersByPath(
        { Path: '/paged', Recursive: true, WithDecryption: false, MaxResults: 10 },
        { signal },
      ),
    ).toMatchObject({ NextToken: expect.any(String) })
    expect(await secrets().getSecretValue({ SecretId: 'tls/cert' }, { signal })).toMatchObject({
      SecretBinary: new Uint8Array([1, 2, 3]),
    })
    expect(
      await secrets().batchGetSecretValue({ SecretIdList: ['api/key', 'nope'] }, { signal }),
    ).toMatchObject({
      SecretValues: [{ Name: 'api/key', SecretString: 'key-123' }],
      Errors: [{ SecretId: 'nope', ErrorCode: 'ResourceNotFoundException' }],
    })
    await expect(
      ssm().getParameter({ Name: '/nope', WithDecryption: true }, { signal }),
    ).rejects.toMatchObject({
      name: 'ParameterNotFound',
      $metadata: { httpStatusCode: 400 },
    })
  })

  it('rejects with the signal’s reason when it aborts a hung request, or before it is sent', async () => {
    aws.injectFault({ kind: 'hang' })
    const controller = new AbortController()
    const reason = new Error('the invocation’s budget ran out')
    const call = ssm().getParameters(
      { Names: ['/app/url'], WithDecryption: true },
      { signal: controller.signal },
    )
    while (count('GetParameters') < 1) await new Promise((resolve) => setImmediate(resolve))
    controller.abort(reason)
    await expect(call).rejects.toBe(reason)
    await expect(
      secrets().getSecretValue({ SecretId: 'api/key' }, { signal: controller.signal }),
    ).rejects.toBe(reason)
  })

  it('stops retrying when the signal aborts during the backoff', async () => {
    aws.injectFault({ service: 'ssm', kind: 'throttle', times: Number.POSITIVE_INFINITY })
    const controller = new AbortController()
    const call = ssm().getParameters(
      { Names: ['/app/url'], WithDecryption: true },
      { signal: controller.signal },
    )
    while (count('GetParameters') < 1) await new Promise((resolve) => setImmediate(resolve))
    controller.abort(new Error('budget'))
    await expect(call).rejects.toThrow('budget')
    expect(count('GetParameters')).toBeLessThan(3) // not the policy's 3 attempts
  })
})
