import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import { fakeClock, type LocalAws, startLocalAws } from '@warmstart/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const clock = fakeClock(Date.UTC(2026, 4, 1))
const binary = Uint8Array.from([0, 1, 2, 250, 255, 128])
let aws: LocalAws
let secrets: SecretsManagerClient

beforeAll(async () => {
  aws = await startLocalAws({
    clock,
    secrets: { 'app/db': '{"user":"app","password":"first"}', 'app/key': binary },
  })
  secrets = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 })
})

afterAll(async () => {
  secrets.destroy()
  await aws.stop()
})

const get = (input: { SecretId: string; VersionId?: string; VersionStage?: string }) =>
  secrets.send(new GetSecretValueCommand(input))

describe('GetSecretValue', () => {
  it('returns a string secret by name with the fields the real service sends', async () => {
    const result = await get({ SecretId: 'app/db' })
    expect(result).toMatchObject({
      Name: 'app/db',
      SecretString: '{"user":"app","password":"first"}',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: new Date(Date.UTC(2026, 4, 1)),
    })
    expect(result.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:app\/db-[A-Za-z0-9_-]{6}$/,
    )
    expect(result.VersionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/)
    expect(result.SecretBinary).toBeUndefined()
  })

  it('finds a secret by its full ARN and by its ARN without the random suffix', async () => {
    const { ARN } = await get({ SecretId: 'app/db' })
    expect((await get({ SecretId: ARN ?? '' })).Name).toBe('app/db')
    expect((await get({ SecretId: (ARN ?? '').slice(0, -7) })).Name).toBe('app/db')
    await expect(get({ SecretId: `${ARN}x` })).rejects.toBeInstanceOf(ResourceNotFoundException)
  })

  it('round-trips a binary secret: the SDK gives a Uint8Array', async () => {
    const result = await get({ SecretId: 'app/key' })
    expect(result.SecretBinary).toBeInstanceOf(Uint8Array)
    expect([...(result.SecretBinary ?? [])]).toEqual([...binary])
    expect(result.SecretString).toBeUndefined()
  })

  it('keeps its own copy of a binary value', async () => {
    const buffer = Uint8Array.from([1, 2, 3])
    aws.putSecret('copied', buffer)
    buffer[0] = 9
    expect([...((await get({ SecretId: 'copied' })).SecretBinary ?? [])]).toEqual([1, 2, 3])
  })

  it('moves AWSCURRENT and AWSPREVIOUS over two rotations, and serves an old version by id', async () => {
    const original = await get({ SecretId: 'app/db' })
    clock.advance('1h')
    aws.rotateSecret('app/db', 'second')
    clock.advance('1h')
    aws.rotateSecret('app/db', 'third')

    const current = await get({ SecretId: 'app/db' })
    expect(current).toMatchObject({ SecretString: 'third', VersionStages: ['AWSCURRENT'] })
    expect(current.CreatedDate).toEqual(new Date(Date.UTC(2026, 4, 1, 2)))
    const previous = await get({ SecretId: 'app/db', VersionStage: 'AWSPREVIOUS' })
    expect(previous).toMatchObject({ SecretString: 'second', VersionStages: ['AWSPREVIOUS'] })
    expect(previous.VersionId).not.toBe(current.VersionId)

    const oldest = await get({ SecretId: 'app/db', VersionId: original.VersionId ?? '' })
    expect(oldest).toMatchObject({ SecretString: '{"user":"app","password":"first"}', VersionStages: [] })

    const both = await get({
      SecretId: 'app/db',
      VersionId: current.VersionId ?? '',
      VersionStage: 'AWSCURRENT',
    })
    expect(both.SecretString).toBe('third')
  })

  it('puts a new current version when putSecret names an existing secret, as PutSecretValue does', async () => {
    aws.putSecret('put-twice', 'one')
    aws.putSecret('put-twice', Uint8Array.from([7]))
    expect([...((await get({ SecretId: 'put-twice' })).SecretBinary ?? [])]).toEqual([7])
    expect((await get({ SecretId: 'put-twice', VersionStage: 'AWSPREVIOUS' })).SecretString).toBe('one')
  })

  it('raises ResourceNotFoundException with the real message for a missing secret, version or stage', async () => {
    const missing = await get({ SecretId: 'nope' }).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(ResourceNotFoundException)
    expect((missing as Error).message).toBe("Secrets Manager can't find the specified secret.")
    expect((missing as ResourceNotFoundException).$metadata.httpStatusCode).toBe(400)

    await expect(get({ SecretId: 'app/key', VersionStage: 'AWSPREVIOUS' })).rejects.toThrow(
      "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
    )
    await expect(get({ SecretId: 'app/key', VersionId: 'no-such-version' })).rejects.toThrow(
      "Secrets Manager can't find the specified secret value for VersionId: no-such-version",
    )
    const { VersionId } = await get({ SecretId: 'app/key' })
    await expect(
      get({ SecretId: 'app/key', VersionId: VersionId ?? '', VersionStage: 'AWSPREVIOUS' }),
    ).rejects.toBeInstanceOf(ResourceNotFoundException)
  })
})

describe('BatchGetSecretValue', () => {
  it('returns the found secrets and reports a missing id in Errors', async () => {
    const result = await secrets.send(
      new BatchGetSecretValueCommand({ SecretIdList: ['app/key', 'missing', 'app/db'] }),
    )
    expect(result.SecretValues?.map((value) => value.Name)).toEqual(['app/key', 'app/db'])
    expect(result.SecretValues?.[0]?.SecretBinary).toBeInstanceOf(Uint8Array)
    expect(result.SecretValues?.[1]).toMatchObject({ SecretString: 'third', VersionStages: ['AWSCURRENT'] })
    expect(result.Errors).toEqual([
      {
        SecretId: 'missing',
        ErrorCode: 'ResourceNotFoundException',
        Message: "Secrets Manager can't find the specified secret.",
      },
    ])
    expect(result.NextToken).toBeUndefined()
  })

  it('refuses more than 20 ids, and filters', async () => {
    const ids = Array.from({ length: 21 }, (_, i) => `s${i}`)
    await expect(secrets.send(new BatchGetSecretValueCommand({ SecretIdList: ids }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/Member must have length less than or equal to 20/),
    })
    await expect(
      secrets.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['app'] }] })),
    ).rejects.toBeInstanceOf(InvalidRequestException)
  })
})
