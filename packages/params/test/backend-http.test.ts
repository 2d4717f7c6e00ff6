// What only the default (HTTP) path has: where it finds its endpoint, region and credentials, and
// how its transport survives timeouts, dropped connections and odd error answers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { secretsManager, ssmParameters } from '@warmstart/params'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
import { type LocalAws, startLocalAws } from '@warmstart/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  checkEndpoint,
  credentialsFromEnvironment,
  regionFromEnvironment,
  resolveEndpoint,
  SECRETS_MANAGER,
  SSM,
} from '../src/backend/config.js'
import { httpSsmBackend } from '../src/backend/http-backend.js'
import { secretsBackend, ssmBackend } from '../src/backend/index.js'
import { retryKind } from '../src/backend/retry.js'

let aws: LocalAws
const savedEnv = { ...process.env }
const signal = new AbortController().signal
const noChains = async () => {
  throw new Error('the SDK chains are not used when the environment has credentials')
}

beforeAll(async () => {
  aws = await startLocalAws({
    verifySignatures: true,
    parameters: { '/app/url': 'https://example.test' },
    secrets: { 'api/key': 'key-123' },
  })
})

afterAll(async () => {
  process.env = savedEnv
  await aws.stop()
})

beforeEach(() => {
  process.env = { ...savedEnv, ...aws.env }
  aws.clearFaults()
  aws.resetCalls()
})

describe('endpoint and region', () => {
  it('resolves the endpoint in the SDK’s order', () => {
    const env = { AWS_ENDPOINT_URL_SSM: 'http://ssm.local:1', AWS_ENDPOINT_URL: 'http://all.local:2' }
    const option = new URL('http://option.local:3')
    expect(resolveEndpoint(SSM, option, 'eu-west-1', env).host).toBe('option.local:3')
    expect(resolveEndpoint(SSM, undefined, 'eu-west-1', env).host).toBe('ssm.local:1')
    expect(resolveEndpoint(SECRETS_MANAGER, undefined, 'eu-west-1', env).host).toBe('all.local:2')
    expect(
      resolveEndpoint(SSM, undefined, 'eu-west-1', { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })
        .href,
    ).toBe('https://ssm.eu-west-1.amazonaws.com/')
    expect(
      resolveEndpoint(SECRETS_MANAGER, undefined, 'us-east-2', { AWS_USE_FIPS_ENDPOINT: 'true' }).href,
    ).toBe('https://secretsmanager-fips.us-east-2.amazonaws.com/')
    expect(resolveEndpoint(SSM, undefined, 'cn-north-1', {}).href).toBe(
      'https://ssm.cn-north-1.amazonaws.com.cn/',
    )
    expect(() => resolveEndpoint(SSM, undefined, 'eu-west-1', { AWS_ENDPOINT_URL_SSM: 'nope' })).toThrow(
      /AWS_ENDPOINT_URL_SSM/,
    )
  })

  it('takes the region and credentials the Lambda runtime sets', () => {
    expect(regionFromEnvironment({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1' })).toBe(
      'eu-west-1',
    )
    expect(regionFromEnvironment({ AWS_DEFAULT_REGION: 'us-east-1' })).toBe('us-east-1')
    expect(regionFromEnvironment({ AWS_REGION: '' })).toBeUndefined()
    expect(
      credentialsFromEnvironment({
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_SESSION_TOKEN: 't',
      }),
    ).toEqual({ accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 't' })
    expect(() => credentialsFromEnvironment({ AWS_ACCESS_KEY_ID: 'a' })).toThrow(
      /"AWS_SECRET_ACCESS_KEY" is not set, while AWS_ACCESS_KEY_ID is/,
    )
    expect(() => credentialsFromEnvironment({ AWS_SESSION_TOKEN: 't', AWS_SECRET_ACCESS_KEY: 'b' })).toThrow(
      /"AWS_ACCESS_KEY_ID" is not set, while AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are/,
    )
  })

  it('rejects a bad endpoint or region, and either next to a client', () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_OPTION' })
    expect(() => checkEndpoint('x', 'ftp://host')).toThrow(invalid)
    expect(() => checkEndpoint('x', 42)).toThrow(invalid)
    expect(() => ssmParameters({ endpoint: 'not a url' })).toThrow(/ssmParameters: option "endpoint"/)
    expect(() => ssmParameters({ region: 'EU West' })).toThrow(/option "region"/)
    const client = fromSsmClient({ send: async () => ({}), config: {} } as never)
    expect(() => ssmParameters({ client, endpoint: aws.endpoint })).toThrow(
      /option "endpoint" applies to the default/,
    )
    expect(() => ssmBackend('x', { client, region: 'eu-west-1' })).toThrow(/option "region"/)
    expect(() => secretsBackend('x', { client: {} as never })).toThrow(/SecretsManagerClient/)
    expect(() => secretsBackend('x', { client: null as never })).toThrow(/SecretsManagerClient/)
  })

  it('signs an endpoint with a path', async () => {
    expect(await ssmParameters({ endpoint: `${aws.endpoint}/prefix/ssm` }).get('/app/url')).toBe(
      'https://example.test',
    )
    expect(aws.calls).toMatchObject([{ signature: 'verified' }])
  })

  it('reaches the endpoint of AWS_ENDPOINT_URL_SSM with the region option', async () => {
    const ssm = ssmParameters({ region: 'us-east-1' })
    expect(await ssm.get('/app/url')).toBe('https://example.test')
    expect(aws.calls).toMatchObject([{ signature: 'verified' }])
  })
})

/** A shared credentials file in `dir` holding the local endpoint's credentials, as the SDK's chain reads it. */
function writeCredentialsFile(dir: string): void {
  const { accessKeyId, secretAccessKey } = aws.clientConfig.credentials
  writeFileSync(
    join(dir, 'credentials'),
    `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`,
  )
}

describe('credentials', () => {
  it('falls back to the SDK’s chain (here the shared credentials file) when the environment has none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warmstart-creds-'))
    try {
      writeCredentialsFile(dir)
      writeFileSync(join(dir, 'config'), '[default]\nregion = us-east-1\n')
      for (const name of [
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'AWS_REGION',
        'AWS_DEFAULT_REGION',
        'AWS_PROFILE',
      ]) {
        delete process.env[name]
      }
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials')
      process.env.AWS_CONFIG_FILE = join(dir, 'config')
      const ssm = ssmParameters()
      expect(await ssm.get('/app/url')).toBe('https://example.test')
      expect(await secretsManager().get('api/key')).toBe('key-123')
      expect(aws.calls).toMatchObject([{ signature: 'verified' }, { signature: 'verified' }])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses a half-set credential pair in the environment, naming the missing variable and never a value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warmstart-creds-'))
    try {
      // Credentials the SDK's chain would find and the endpoint would accept: not a silent way out.
      writeCredentialsFile(dir)
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials')
      delete process.env.AWS_PROFILE
      const cases: Array<[Record<string, string | undefined>, RegExp]> = [
        [{ AWS_ACCESS_KEY_ID: 'AKIDHALFSET', AWS_SECRET_ACCESS_KEY: undefined }, /"AWS_SECRET_ACCESS_KEY"/],
        [{ AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: 'half-set-secret' }, /"AWS_ACCESS_KEY_ID"/],
        [
          {
            AWS_ACCESS_KEY_ID: undefined,
            AWS_SECRET_ACCESS_KEY: undefined,
            AWS_SESSION_TOKEN: 'half-set-token',
          },
          /"AWS_ACCESS_KEY_ID".*AWS_SECRET_ACCESS_KEY/,
        ],
      ]
      for (const [variables, names] of cases) {
        for (const [name, value] of Object.entries(variables)) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
        const error = await ssmParameters()
          .get('/app/url')
          .catch((e: unknown) => e)
        expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(names) })
        expect((error as Error).message).not.toMatch(/HALFSET|half-set/)
        await expect(secretsManager().get('api/key')).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
        process.env = { ...savedEnv, ...aws.env, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') }
      }
      expect(aws.callCount()).toBe(0)
      // Where the SDK is not installed (a bundle of the default path), the chain is never reached.
      const backend = httpSsmBackend({
        chains: async () => {
          throw Object.assign(new Error('ssmParameters needs @aws-sdk/client-ssm'), {
            code: 'ERR_PEER_MISSING',
          })
        },
        env: { ...aws.env, AWS_SECRET_ACCESS_KEY: undefined },
      })
      await expect(
        backend.getParameters({ Names: ['/app/url'], WithDecryption: true }, { signal }),
      ).rejects.toThrow(/AWS_SECRET_ACCESS_KEY/)
      expect(credentialsFromEnvironment({})).toBeUndefined()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('sends the signature the endpoint rejects when the secret is wrong, and does not retry it', async () => {
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret'
    await expect(ssmParameters().get('/app/url')).rejects.toMatchObject({
      reason: 'InvalidSignatureException',
    })
    expect(aws.callCount()).toBe(1)
  })
})

describe('transport', () => {
  const backend = (attemptTimeout = 2000) =>
    httpSsmBackend({
      endpoint: new URL(aws.endpoint),
      chains: noChains,
      attemptTimeout,
      retry: { maxAttempts: 3, random: () => 0 },
    })
  const get = (b = backend()) => b.getParameters({ Names: ['/app/url'], WithDecryption: true }, { signal })

  it('gives an attempt that does not answer in time up and tries again', async () => {
    aws.injectFault({ kind: 'hang' })
    expect(await get(backend(100))).toMatchObject({ Parameters: [{ Value: 'https://example.test' }] })
    expect(aws.callCount()).toBe(2)
    aws.injectFault({ kind: 'hang', times: 3 })
    await expect(get(backend(50))).rejects.toMatchObject({ name: 'TimeoutError' })
  })

  it('tries again on a dropped connection and a 5xx whose body is not JSON', async () => {
    aws.injectFault({ kind: 'drop' })
    aws.injectFault({ kind: 'respond', status: 503, body: '<html>Service Unavailable</html>' })
    expect(await get()).toMatchObject({ Parameters: [{ Name: '/app/url' }] })
    expect(aws.callCount()).toBe(3)
  })

  it('reads the error type from a namespaced __type or the x-amzn-errortype header', async () => {
    aws.injectFault({
      kind: 'respond',
      status: 400,
      body: '{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"bad token"}',
    })
    await expect(get()).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      message: 'bad token',
      $fault: 'client',
    })
    aws.injectFault({ kind: 'respond', status: 400, body: 'not json' })
    await expect(get()).rejects.toMatchObject({ name: 'UnknownError', message: 'UnknownError (HTTP 400)' })
    aws.injectFault({
      kind: 'respond',
      status: 403,
      body: '',
      headers: { 'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/' },
    })
    await expect(get()).rejects.toMatchObject({ name: 'AccessDeniedException' })
    aws.injectFault({ kind: 'respond', status: 502, body: '' })
    aws.injectFault({ kind: 'respond', status: 502, body: '' })
    aws.injectFault({ kind: 'respond', status: 502, body: '' })
    await expect(get()).rejects.toMatchObject({ name: 'InternalFailure', $fault: 'server' })
    aws.injectFault({ kind: 'respond', body: '[1]' })
    await expect(get()).rejects.toMatchObject({ code: 'ERR_PARAMS_MALFORMED_RESPONSE' })
    aws.injectFault({ kind: 'respond', status: 429, body: '' })
    aws.injectFault({ kind: 'respond', status: 200, body: '{"Parameters":"no list"}' })
    await expect(get()).rejects.toMatchObject({ code: 'ERR_PARAMS_MALFORMED_RESPONSE' })
  })

  it('ends the backoff wait when the signal aborts', async () => {
    aws.injectFault({ kind: 'throttle', times: Number.POSITIVE_INFINITY })
    const controller = new AbortController()
    const reason = new Error('budget spent')
    const waiting = httpSsmBackend({
      endpoint: new URL(aws.endpoint),
      chains: noChains,
      retry: {
        maxAttempts: 3,
        random: () => {
          setImmediate(() => controller.abort(reason)) // a wait of 1 s, cut short
          return 1
        },
      },
    })
    await expect(
      waiting.getParameters({ Names: ['/app/url'], WithDecryption: true }, { signal: controller.signal }),
    ).rejects.toBe(reason)
    expect(aws.callCount()).toBe(1)
    const aborted = httpSsmBackend({
      endpoint: new URL(aws.endpoint),
      chains: noChains,
      retry: {
        maxAttempts: 3,
        random: () => {
          controller2.abort(reason)
          return 1
        },
      },
    })
    const controller2 = new AbortController()
    await expect(
      aborted.getParameters({ Names: ['/app/url'], WithDecryption: true }, { signal: controller2.signal }),
    ).rejects.toBe(reason)
  })

  it('answers a SecretBinary that is not base64 text as malformed', async () => {
    aws.injectFault({ kind: 'respond', body: '{"Name":"api/key","SecretBinary":5}' })
    await expect(secretsManager().get('api/key')).rejects.toMatchObject({
      code: 'ERR_PARAMS_MALFORMED_RESPONSE',
    })
  })

  it('gives up reading an answer over 16 MiB', async () => {
    aws.injectFault({ kind: 'respond', body: `{"Parameters":[],"x":"${'x'.repeat(17 * 1024 * 1024)}"}` })
    await expect(get()).rejects.toMatchObject({
      code: 'ERR_PARAMS_MALFORMED_RESPONSE',
      message: /over 16777216 bytes/,
    })
    expect(await get()).toMatchObject({ Parameters: [{ Name: '/app/url' }] })
  })

  it('classifies what is worth another attempt', () => {
    expect(retryKind(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('transient')
    expect(retryKind(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBeUndefined()
    expect(retryKind(new Error('plain'))).toBeUndefined()
    expect(retryKind(undefined)).toBeUndefined()
  })
})
