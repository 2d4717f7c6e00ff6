import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ParameterNotFound,
  ParameterVersionNotFound,
  paginateGetParametersByPath,
  SSMClient,
  ValidationException,
} from '@aws-sdk/client-ssm'
import { fakeClock, type LocalAws, startLocalAws } from '@warmstart/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const clock = fakeClock(Date.UTC(2026, 2, 1, 12))
let aws: LocalAws
let ssm: SSMClient

beforeAll(async () => {
  aws = await startLocalAws({
    clock,
    parameters: {
      '/app/url': 'https://example.test',
      '/app/hosts': { value: 'a.test,b.test', type: 'StringList' },
      '/app/db/password': { value: 'hunter2', type: 'SecureString' },
      plain: 'no hierarchy',
    },
  })
  ssm = new SSMClient({ ...aws.clientConfig, maxAttempts: 1 })
})

afterAll(async () => {
  ssm.destroy()
  await aws.stop()
})

describe('GetParameter', () => {
  it('returns a String parameter with the fields the real service sends', async () => {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/app/url' }))
    expect(Parameter).toEqual({
      Name: '/app/url',
      Type: 'String',
      Value: 'https://example.test',
      Version: 1,
      LastModifiedDate: new Date(Date.UTC(2026, 2, 1, 12)),
      ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/app/url',
      DataType: 'text',
    })
    expect(aws.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('gives a plain name an ARN with one slash', async () => {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: 'plain' }))
    expect(Parameter?.ARN).toBe('arn:aws:ssm:us-east-1:123456789012:parameter/plain')
    expect(Parameter?.Value).toBe('no hierarchy')
  })

  it('returns a StringList as its comma-joined value', async () => {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/app/hosts' }))
    expect(Parameter?.Type).toBe('StringList')
    expect(Parameter?.Value?.split(',')).toEqual(['a.test', 'b.test'])
  })

  it('decrypts a SecureString only when asked to', async () => {
    const decrypted = await ssm.send(
      new GetParameterCommand({ Name: '/app/db/password', WithDecryption: true }),
    )
    expect(decrypted.Parameter?.Type).toBe('SecureString')
    expect(decrypted.Parameter?.Value).toBe('hunter2')

    const encrypted = await ssm.send(new GetParameterCommand({ Name: '/app/db/password' }))
    expect(encrypted.Parameter?.Value).not.toContain('hunter2')
    expect(Buffer.from(encrypted.Parameter?.Value ?? '', 'base64').toString()).not.toContain('hunter2')
    expect(encrypted.Parameter?.Value).toMatch(/^[A-Za-z0-9+/]+=*$/)
    const again = await ssm.send(new GetParameterCommand({ Name: '/app/db/password', WithDecryption: false }))
    expect(again.Parameter?.Value).toBe(encrypted.Parameter?.Value)
  })

  it('raises ParameterNotFound for a missing name, without a message, as the real service does', async () => {
    const error = await ssm.send(new GetParameterCommand({ Name: '/app/missing' })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ParameterNotFound)
    expect((error as ParameterNotFound).$metadata.httpStatusCode).toBe(400)
    expect((error as ParameterNotFound).$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('serves versions and labels by selector, and moves a label to the version put with it', async () => {
    clock.advance('1m')
    expect(aws.putParameter('/versions/flag', { value: 'one', labels: ['prod'] })).toBe(1)
    clock.advance('1m')
    expect(aws.putParameter('/versions/flag', { value: 'two', labels: ['beta'] })).toBe(2)
    expect(aws.putParameter('/versions/flag', { value: 'three', labels: ['prod'] })).toBe(3)

    const latest = await ssm.send(new GetParameterCommand({ Name: '/versions/flag' }))
    expect(latest.Parameter).toMatchObject({ Value: 'three', Version: 3 })
    expect(latest.Parameter?.Selector).toBeUndefined()

    const first = await ssm.send(new GetParameterCommand({ Name: '/versions/flag:1' }))
    expect(first.Parameter).toMatchObject({
      Name: '/versions/flag',
      Value: 'one',
      Version: 1,
      Selector: ':1',
    })
    expect(first.Parameter?.LastModifiedDate).toEqual(new Date(Date.UTC(2026, 2, 1, 12, 1)))

    const beta = await ssm.send(new GetParameterCommand({ Name: '/versions/flag:beta' }))
    expect(beta.Parameter).toMatchObject({ Value: 'two', Version: 2, Selector: ':beta' })
    const prod = await ssm.send(new GetParameterCommand({ Name: '/versions/flag:prod' }))
    expect(prod.Parameter).toMatchObject({ Value: 'three', Version: 3, Selector: ':prod' })
  })

  it('raises ParameterVersionNotFound for a missing version or label', async () => {
    aws.putParameter('/versions/single', 'only')
    for (const name of ['/versions/single:9', '/versions/single:nolabel']) {
      const error = await ssm.send(new GetParameterCommand({ Name: name })).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ParameterVersionNotFound)
      expect((error as Error).message).toMatch(/could not find version/)
    }
  })

  it('refuses a malformed selector with a ValidationException', async () => {
    for (const name of ['/versions/single:', '/versions/single:1:2']) {
      await expect(ssm.send(new GetParameterCommand({ Name: name }))).rejects.toBeInstanceOf(
        ValidationException,
      )
    }
  })
})

describe('GetParameters', () => {
  const names = Array.from({ length: 10 }, (_, i) => `/many/p${i}`)
  beforeAll(() => {
    for (const [i, name] of names.entries()) if (i < 7) aws.putParameter(name, `value-${i}`)
  })

  it('returns up to 10 names and lists the missing ones in InvalidParameters', async () => {
    const result = await ssm.send(new GetParametersCommand({ Names: names }))
    expect(result.Parameters?.map((p) => [p.Name, p.Value])).toEqual(
      names.slice(0, 7).map((name, i) => [name, `value-${i}`]),
    )
    expect(result.InvalidParameters).toEqual(['/many/p7', '/many/p8', '/many/p9'])
  })

  it('resolves selectors and decrypts when asked', async () => {
    const result = await ssm.send(
      new GetParametersCommand({
        Names: ['/app/db/password', '/versions/flag:beta', '/versions/flag:7'],
        WithDecryption: true,
      }),
    )
    expect(result.Parameters?.map((p) => [p.Name, p.Value, p.Selector])).toEqual([
      ['/app/db/password', 'hunter2', undefined],
      ['/versions/flag', 'two', ':beta'],
    ])
    expect(result.InvalidParameters).toEqual(['/versions/flag:7'])
  })

  it('refuses 11 names with the real ValidationException', async () => {
    const error = await ssm
      .send(new GetParametersCommand({ Names: [...names, '/many/p10'] }))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationException)
    expect((error as Error).message).toMatch(
      /at 'names' failed to satisfy constraint: Member must have length less than or equal to 10/,
    )
  })

  it('refuses a malformed selector in the list', async () => {
    await expect(ssm.send(new GetParametersCommand({ Names: ['/app/url::'] }))).rejects.toBeInstanceOf(
      ValidationException,
    )
  })
})

describe('GetParametersByPath', () => {
  beforeAll(() => {
    aws.putParameter('/tree/a', 'A')
    aws.putParameter('/tree/b', 'B')
    aws.putParameter('/tree/sub/c', 'C')
    aws.putParameter('/tree/sub/deeper/d', { value: 'D', type: 'SecureString' })
    aws.putParameter('/treehouse/x', 'not under /tree')
    for (let i = 0; i < 25; i++) aws.putParameter(`/paged/p${String(i).padStart(2, '0')}`, `v${i}`)
  })

  it('returns only direct children unless recursive', async () => {
    const direct = await ssm.send(new GetParametersByPathCommand({ Path: '/tree' }))
    expect(direct.Parameters?.map((p) => p.Name)).toEqual(['/tree/a', '/tree/b'])
    expect(direct.NextToken).toBeUndefined()

    const recursive = await ssm.send(
      new GetParametersByPathCommand({ Path: '/tree/', Recursive: true, WithDecryption: true }),
    )
    expect(recursive.Parameters?.map((p) => [p.Name, p.Value])).toEqual([
      ['/tree/a', 'A'],
      ['/tree/b', 'B'],
      ['/tree/sub/c', 'C'],
      ['/tree/sub/deeper/d', 'D'],
    ])
    const encrypted = await ssm.send(new GetParametersByPathCommand({ Path: '/tree/sub/deeper' }))
    expect(encrypted.Parameters?.[0]?.Value).not.toBe('D')
  })

  it('pages through 25 parameters 10 at a time: 3 pages', async () => {
    aws.resetCalls()
    const pages: string[][] = []
    for await (const page of paginateGetParametersByPath({ client: ssm, pageSize: 10 }, { Path: '/paged' })) {
      pages.push((page.Parameters ?? []).map((p) => p.Name ?? ''))
    }
    expect(pages.map((page) => page.length)).toEqual([10, 10, 5])
    expect(pages.flat()).toEqual(
      Array.from({ length: 25 }, (_, i) => `/paged/p${String(i).padStart(2, '0')}`),
    )
    expect(aws.callCount({ service: 'ssm', operation: 'GetParametersByPath' })).toBe(3)
    expect(aws.calls[0]?.names).toEqual(['/paged'])
  })

  it('uses a page size of 10 by default and refuses MaxResults outside 1-10', async () => {
    const first = await ssm.send(new GetParametersByPathCommand({ Path: '/paged' }))
    expect(first.Parameters).toHaveLength(10)
    expect(first.NextToken).toEqual(expect.any(String))
    for (const MaxResults of [0, 11]) {
      await expect(
        ssm.send(new GetParametersByPathCommand({ Path: '/paged', MaxResults })),
      ).rejects.toBeInstanceOf(ValidationException)
    }
  })

  it('refuses a path without a leading slash, filters and a foreign token', async () => {
    await expect(ssm.send(new GetParametersByPathCommand({ Path: 'tree' }))).rejects.toBeInstanceOf(
      ValidationException,
    )
    await expect(
      ssm.send(
        new GetParametersByPathCommand({
          Path: '/tree',
          ParameterFilters: [{ Key: 'Type', Values: ['String'] }],
        }),
      ),
    ).rejects.toThrow(/ParameterFilters are not supported/)
    for (const NextToken of ['not-a-token', Buffer.from('{"after":1}').toString('base64url')]) {
      await expect(
        ssm.send(new GetParametersByPathCommand({ Path: '/paged', NextToken })),
      ).rejects.toMatchObject({
        name: 'InvalidNextToken',
      })
    }
  })

  it('returns an empty page for a path with nothing under it', async () => {
    const result = await ssm.send(new GetParametersByPathCommand({ Path: '/nothing/here' }))
    expect(result.Parameters).toEqual([])
    expect(result.NextToken).toBeUndefined()
  })
})

describe('env', () => {
  it('points clients made without an endpoint, as a handler makes them, at the local endpoint', async () => {
    const saved = { ...process.env }
    Object.assign(process.env, aws.env)
    const handlerSsm = new SSMClient({})
    const handlerSecrets = new SecretsManagerClient({})
    try {
      aws.putSecret('env/secret', 'from-env')
      expect((await handlerSsm.send(new GetParameterCommand({ Name: '/app/url' }))).Parameter?.Value).toBe(
        'https://example.test',
      )
      expect(
        (await handlerSecrets.send(new GetSecretValueCommand({ SecretId: 'env/secret' }))).SecretString,
      ).toBe('from-env')
      expect(aws.env).toMatchObject({ AWS_ENDPOINT_URL_SSM: aws.endpoint, AWS_REGION: 'us-east-1' })
    } finally {
      handlerSsm.destroy()
      handlerSecrets.destroy()
      process.env = saved
    }
  })
})
