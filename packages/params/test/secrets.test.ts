import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import { SecretNotFoundError, secretsManager, TransformError } from '@warmstart/params'
import { fromSecretsManagerClient } from '@warmstart/params/secrets-manager-sdk'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
import { fakeClock, type LocalAws, startLocalAws } from '@warmstart/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

let aws: LocalAws
let client: SecretsManagerClient
const ids = Array.from({ length: 25 }, (_, i) => `svc/s${i}`)

beforeAll(async () => {
  aws = await startLocalAws({
    secrets: {
      'db/credentials': '{"username":"app","password":"pw-one"}',
      'api/key': 'key-123',
      'tls/cert': new Uint8Array([1, 2, 3]),
      'bad/json': 'not-json-secret-value',
      ...Object.fromEntries(ids.map((id, i) => [id, `secret-${i}`])),
    },
  })
  client = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 2 })
})

afterAll(async () => {
  client.destroy()
  await aws.stop()
})

beforeEach(() => {
  aws.clearFaults()
  aws.resetCalls()
})

const calls = (operation: string) => aws.callCount({ service: 'secretsmanager', operation })

/** A client whose role is not allowed BatchGetSecretValue, as IAM answers it. */
function clientWithoutBatchPermission(): SecretsManagerClient {
  const denied = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 })
  denied.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'BatchGetSecretValueCommand') {
        throw Object.assign(new Error('not authorized to perform secretsmanager:BatchGetSecretValue'), {
          name: 'AccessDeniedException',
        })
      }
      return next(args)
    },
    { step: 'initialize', name: 'denyBatch' },
  )
  return denied
}

describe('secretsManager', () => {
  it('reads string, binary and json secrets', async () => {
    const secrets = secretsManager({ client: fromSecretsManagerClient(client) })
    expect(await secrets.get('api/key')).toBe('key-123')
    expect(await secrets.get<Uint8Array>('tls/cert')).toEqual(new Uint8Array([1, 2, 3]))
    expect(await secrets.get('tls/cert', { transform: 'binary' })).toEqual(new Uint8Array([1, 2, 3]))
    const creds = await secrets.get<{ username: string; password: string }>('db/credentials', {
      transform: 'json',
    })
    expect(creds.username).toBe('app')
    expect(Object.isFrozen(creds)).toBe(true)
    // 'tls/cert' raw and binary are views of one fetch.
    expect(calls('GetSecretValue')).toBe(3)
  })

  it('reads 25 ids with 2 BatchGetSecretValue calls (20 + 5), and ids of one tick together', async () => {
    const secrets = secretsManager({ client: fromSecretsManagerClient(client) })
    const values = await secrets.getMany(ids)
    expect(values['svc/s24']).toBe('secret-24')
    expect(calls('BatchGetSecretValue')).toBe(2)
    expect(aws.calls.map((call) => call.names.length)).toEqual([20, 5])
    aws.resetCalls()
    const fresh = secretsManager({ client: fromSecretsManagerClient(client) })
    const [key, creds] = await Promise.all([
      secrets.get('api/key'),
      fresh.get('db/credentials', { transform: 'json' }),
    ])
    expect(key).toBe('key-123')
    expect(creds).toMatchObject({ username: 'app' })
    expect(aws.calls).toHaveLength(2) // one GetSecretValue per provider: a single id needs no batch
  })

  it('lists missing ids in one SecretNotFoundError, from a batch or a single read', async () => {
    const secrets = secretsManager({ client: fromSecretsManagerClient(client) })
    const error = await secrets.getMany(['api/key', 'nope/1', 'nope/2']).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SecretNotFoundError)
    expect(error).toMatchObject({ code: 'ERR_SECRET_NOT_FOUND', ids: ['nope/1', 'nope/2'] })
    await expect(secrets.get('nope/3')).rejects.toMatchObject({ ids: ['nope/3'] })
    await expect(secrets.get('nope/3', { versionStage: 'AWSPREVIOUS' })).rejects.toBeInstanceOf(
      SecretNotFoundError,
    )
  })

  it('after a rotation, serves the cached value for at most one TTL, and refresh(id) fetches the new one at once', async () => {
    const clock = fakeClock()
    const secrets = secretsManager({ client: fromSecretsManagerClient(client), clock, ttl: '5m', jitter: 0 })
    aws.putSecret('rotating', 'old-password')
    expect(await secrets.get('rotating')).toBe('old-password')
    aws.rotateSecret('rotating', 'new-password')
    clock.advance('4m')
    expect(await secrets.get('rotating')).toBe('old-password')
    expect(await secrets.get('rotating', { versionStage: 'AWSPREVIOUS' })).toBe('old-password')
    // A consumer learns the value is wrong (pg's 28P01) and forces a fetch.
    expect(await secrets.refresh('rotating')).toBe('new-password')
    expect(await secrets.get('rotating')).toBe('new-password')
    aws.rotateSecret('rotating', 'third-password')
    clock.advance('5m')
    expect(await secrets.get('rotating')).toBe('third-password')
    expect(secrets.invalidate('rotating')).toBe(true)
  })

  it('falls back to GetSecretValue when the role may not BatchGetSecretValue, and batch: false never batches', async () => {
    const denied = clientWithoutBatchPermission()
    try {
      const secrets = secretsManager({ client: fromSecretsManagerClient(denied) })
      expect(await secrets.getMany(['svc/s1', 'svc/s2'])).toEqual({
        'svc/s1': 'secret-1',
        'svc/s2': 'secret-2',
      })
      expect(await secrets.getMany(['svc/s3', 'svc/s4'])).toEqual({
        'svc/s3': 'secret-3',
        'svc/s4': 'secret-4',
      })
      await expect(secrets.getMany(['svc/s5', 'nope/9'])).rejects.toMatchObject({ ids: ['nope/9'] })
      expect(calls('BatchGetSecretValue')).toBe(0)
      expect(calls('GetSecretValue')).toBe(6)
    } finally {
      denied.destroy()
    }
    aws.resetCalls()
    const unbatched = secretsManager({ client: fromSecretsManagerClient(client), batch: false })
    await unbatched.getMany(['svc/s1', 'svc/s2'])
    expect(calls('GetSecretValue')).toBe(2)
  })

  it('maps a per-secret batch error to a typed error for that id only', async () => {
    const faulty = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 })
    faulty.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args)
        const output = result.output as { SecretValues?: { Name?: string }[]; Errors?: unknown[] }
        if (output.SecretValues !== undefined) {
          output.SecretValues = output.SecretValues.filter((secret) => secret.Name !== 'svc/s2')
          output.Errors = [{ SecretId: 'svc/s2', ErrorCode: 'DecryptionFailure', Message: 'KMS said no' }]
        }
        return result
      },
      { step: 'initialize', name: 'kmsFailure' },
    )
    try {
      const secrets = secretsManager({ client: fromSecretsManagerClient(faulty) })
      const [one, two] = await Promise.allSettled([secrets.get('svc/s1'), secrets.get('svc/s2')])
      expect(one).toEqual({ status: 'fulfilled', value: 'secret-1' })
      expect(two).toMatchObject({
        status: 'rejected',
        reason: { code: 'ERR_PARAMS_FETCH', reason: 'DecryptionFailure' },
      })
      // Not cached: a single read (GetSecretValue) gets it.
      expect(await secrets.get('svc/s2')).toBe('secret-2')
    } finally {
      faulty.destroy()
    }
  })

  it('throws typed errors for transforms and service failures, never with the value', async () => {
    const secrets = secretsManager({ client: fromSecretsManagerClient(client), staleIfError: 0 })
    const error = await secrets.get('bad/json', { transform: 'json' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransformError)
    expect(String(error)).not.toContain('not-json-secret-value')
    expect((error as Error).cause).toBeUndefined()
    aws.injectFault({ service: 'secretsmanager', kind: 'server-error', times: Number.POSITIVE_INFINITY })
    await expect(secrets.getMany(['svc/s1', 'svc/s2'])).rejects.toMatchObject({ code: 'ERR_PARAMS_FETCH' })
    await expect(secrets.get('api/key')).rejects.toMatchObject({ reason: 'InternalServiceError' })
    await expect(secrets.get('api/key', { versionStage: 'AWSCURRENT' })).rejects.toMatchObject({
      reason: 'InternalServiceError',
    })
  })

  it('refreshes ahead and settles; stats count it', async () => {
    const clock = fakeClock()
    const secrets = secretsManager({
      client: fromSecretsManagerClient(client),
      clock,
      ttl: 10_000,
      jitter: 0,
      refreshAhead: 0.5,
    })
    await secrets.get('api/key')
    clock.advance(6_000)
    await secrets.get('api/key')
    await secrets.settle()
    expect(secrets.stats()).toMatchObject({ misses: 1, hits: 1, refreshes: 1 })
  })

  it('rejects bad options and arguments with ERR_INVALID_OPTION', async () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_OPTION' })
    expect(() => secretsManager(null as never)).toThrow(invalid)
    expect(() => secretsManager({ client: 1 as never })).toThrow(invalid)
    expect(() => secretsManager({ client: client as never })).toThrow(
      /must be a SecretsManagerClient passed through fromSecretsManagerClient\(\) of '@warmstart\/params\/secrets-manager-sdk'/,
    )
    // A client of the other service is refused where it is wrapped, from its config.serviceId.
    const other = new SSMClient(aws.clientConfig)
    expect(() => fromSecretsManagerClient(other as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: 'fromSecretsManagerClient: expected a SecretsManagerClient (got a client of "SSM")',
      }),
    )
    expect(() => secretsManager({ client: fromSsmClient(other) as never })).toThrow(
      /must be what fromSecretsManagerClient\(\) of '@warmstart\/params\/secrets-manager-sdk' returns/,
    )
    other.destroy()
    expect(() => secretsManager({ batch: 'no' as never })).toThrow(invalid)
    const secrets = secretsManager({ client: fromSecretsManagerClient(client) })
    // Every promise-returning method rejects, never throws.
    await expect(secrets.get('')).rejects.toMatchObject(invalid)
    await expect(secrets.get('x', { transform: 'xml' as never })).rejects.toMatchObject(invalid)
    await expect(secrets.get('x', { versionStage: '' })).rejects.toMatchObject(invalid)
    await expect(secrets.refresh('')).rejects.toMatchObject(invalid)
    expect(() => secrets.ref('')).toThrow(invalid)
    await expect(secrets.getMany('x' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
  })

  it("refuses an id holding '#' instead of serving it another stage's cached value", async () => {
    const secrets = secretsManager({ client: fromSecretsManagerClient(client) })
    await secrets.get('api/key', { versionStage: 'AWSCURRENT' }) // cached under 'api/key#AWSCURRENT'
    const invalid = expect.objectContaining({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining("'#'"),
    })
    await expect(secrets.get('api/key#AWSCURRENT')).rejects.toMatchObject(invalid)
    await expect(secrets.getMany(['api/key#AWSCURRENT'])).rejects.toMatchObject(invalid)
    expect(() => secrets.ref('api/key#AWSCURRENT')).toThrow(invalid)
  })

  it('uses the default HTTP transport (no SDK client) when none is given', async () => {
    const keys = [
      'AWS_ENDPOINT_URL_SECRETS_MANAGER',
      'AWS_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
    ]
    const saved = Object.fromEntries(keys.map((key) => [key, process.env[key]]))
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint,
      AWS_REGION: aws.clientConfig.region,
      AWS_ACCESS_KEY_ID: aws.clientConfig.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.clientConfig.credentials.secretAccessKey,
    })
    try {
      const secrets = secretsManager()
      expect(await secrets.get('api/key')).toBe('key-123')
    } finally {
      for (const key of keys) {
        if (saved[key] === undefined) delete process.env[key]
        else process.env[key] = saved[key]
      }
    }
  })
})
