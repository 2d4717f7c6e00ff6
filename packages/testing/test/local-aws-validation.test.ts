import { type LocalAws, type LocalAwsFault, type LocalAwsOptions, startLocalAws } from '@warmstart/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let aws: LocalAws

beforeAll(async () => {
  aws = await startLocalAws({
    parameters: { '/app/url': 'https://example.test' },
    secrets: { 'app/db': 's3cret' },
  })
})

afterAll(async () => {
  await aws.stop()
})

describe('seed input the real services would refuse', () => {
  it.each([
    ['app/url', /parameter name "app\/url" must start with '\/' when it forms a hierarchy/],
    ['', /must be 1 to 1011 characters long/],
    ['/app/', /must not end with '\/'/],
    ['/app//url', /between single '\/' separators/],
    ['/app/my url', /must hold only letters, digits/],
    ['/aws/thing', /must not begin with 'aws' or 'ssm'/],
    ['SSM-flag', /must not begin with 'aws' or 'ssm'/],
    [`/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`, /at most 15 levels/],
    ['x'.repeat(1012), /"x{77}\.\.\." must be 1 to 1011 characters long/],
  ])('refuses the parameter name %j', (name, message) => {
    expect(() => aws.putParameter(name, 'value')).toThrow(message)
    expect(() => aws.putParameter(name, 'value')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_SEED' }),
    )
  })

  it('refuses bad parameter values, types and labels without echoing the value', () => {
    expect(() => aws.putParameter('/app/empty', '')).toThrow(
      'startLocalAws: parameter "/app/empty" must have a non-empty value (SSM refuses an empty one)',
    )
    expect(() => aws.putParameter('/app/x', { value: 42 } as never)).toThrow(
      /needs a string value or \{ value, type\?, labels\? \}/,
    )
    expect(() => aws.putParameter('/app/x', null as never)).toThrow(/needs a string value/)
    expect(() => aws.putParameter('/app/x', { value: 'topsecret', type: 'Secret' as never })).toThrow(
      /has a type that is not 'String', 'StringList' or 'SecureString'/,
    )
    expect(() => aws.putParameter('/app/x', { value: 'topsecret', labels: 'prod' as never })).toThrow(
      /labels as an array/,
    )
    expect(() =>
      aws.putParameter('/app/x', { value: 'v', labels: Array.from({ length: 11 }, (_, i) => `l${i}`) }),
    ).toThrow(/at most 10 strings/)
    expect(() => aws.putParameter('/app/x', { value: 'v', labels: ['1st'] })).toThrow(
      /must not begin with a digit/,
    )
    expect(() => aws.putParameter('/app/x', { value: 'v', labels: ['awsy'] })).toThrow(
      /must not begin with 'aws'/,
    )
    expect(() => aws.putParameter('/app/x', { value: 'v', labels: ['has space'] })).toThrow(
      /label "has space" of parameter "\/app\/x" must be 1 to 100 letters/,
    )
    expect(() => aws.putParameter('/app/x', { value: 'v', labels: [7 as never] })).toThrow(
      /label "7" .* must be a string/,
    )
    expect(() => aws.putParameter(7 as never, 'v')).toThrow(
      'startLocalAws: a parameter name must be a string (got 7)',
    )
    const refused = (() => {
      try {
        aws.putParameter('/app/x', { value: 'topsecret', type: 'Secret' as never })
      } catch (error) {
        return String(error)
      }
    })()
    expect(refused).toMatch(/has a type that is not/)
    expect(refused).not.toContain('topsecret')
  })

  it('refuses bad secret names and values, and rotating a secret that does not exist', () => {
    expect(() => aws.putSecret('has space', 'v')).toThrow(/secret name "has space" must be 1 to 512 letters/)
    expect(() => aws.putSecret(1 as never, 'v')).toThrow(/a secret name must be a string/)
    expect(() => aws.putSecret('app/empty', '')).toThrow(
      'startLocalAws: secret "app/empty" must have a non-empty value',
    )
    expect(() => aws.putSecret('app/empty', new Uint8Array())).toThrow(/must have a non-empty value/)
    expect(() => aws.putSecret('app/obj', { a: 1 } as never)).toThrow(/needs a string or a Uint8Array value/)
    expect(() => aws.rotateSecret('nope', 'v')).toThrow(
      /secret "nope" does not exist: putSecret\(\) it first/,
    )
  })

  it('checks seeds given to startLocalAws the same way', async () => {
    await expect(startLocalAws({ parameters: { 'a/b': 'v' } })).rejects.toMatchObject({
      code: 'ERR_INVALID_SEED',
    })
    await expect(startLocalAws({ secrets: { 'x y': 'v' } })).rejects.toMatchObject({
      code: 'ERR_INVALID_SEED',
    })
  })

  it.each<[unknown, RegExp]>([
    [null, /option "options" must be an object \(got null\)/],
    [{ parameters: [] }, /option "parameters" must be an object of name to value \(got an array\)/],
    [{ secrets: 'x' }, /option "secrets" must be an object/],
    [{ parameters: null }, /option "parameters" must be an object/],
    [{ clock: {} }, /option "clock" must be an object with a now\(\) method/],
  ])('refuses the options %j', async (options, message) => {
    await expect(startLocalAws(options as LocalAwsOptions)).rejects.toThrow(message)
    await expect(startLocalAws(options as LocalAwsOptions)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    })
  })
})

describe('injectFault validation', () => {
  it.each<[unknown, RegExp]>([
    [null, /injectFault: option "fault" must be an object/],
    [
      { kind: 'explode' },
      /option "kind" must be one of 'throttle', 'server-error', 'latency', 'hang', 'drop'/,
    ],
    [{ kind: 'throttle', service: 's3' }, /option "service" must be 'ssm' or 'secretsmanager' \(got "s3"\)/],
    [{ kind: 'throttle', operation: '' }, /option "operation" must be an operation name/],
    [{ kind: 'throttle', times: 0 }, /option "times" must be a whole number >= 1 or Infinity \(got 0\)/],
    [{ kind: 'throttle', times: 1.5 }, /option "times" must be a whole number/],
    [{ kind: 'latency' }, /option "latencyMs" is required for kind 'latency'/],
    [{ kind: 'latency', latencyMs: -1 }, /option "latencyMs" must be a duration/],
    [{ kind: 'hang', latencyMs: 10 }, /option "latencyMs" applies to kind 'latency' only/],
  ])('refuses %j', (fault, message) => {
    expect(() => aws.injectFault(fault as LocalAwsFault)).toThrow(message)
  })
})

describe('the wire protocol, spoken by hand', () => {
  const post = async (target: string | undefined, body: string, method = 'POST') => {
    const response = await fetch(aws.endpoint, {
      method,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        ...(target === undefined ? {} : { 'x-amz-target': target }),
      },
      ...(method === 'POST' ? { body } : {}),
    })
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      json: (await response.json()) as Record<string, unknown>,
    }
  }

  it('answers a valid request with the AWS JSON 1.1 content type', async () => {
    const result = await post('AmazonSSM.GetParameter', '{"Name":"/app/url"}')
    expect(result.status).toBe(200)
    expect(result.type).toBe('application/x-amz-json-1.1')
  })

  it('answers an unknown operation of a known service with 400 UnknownOperationException, and records it', async () => {
    aws.resetCalls()
    expect(await post('AmazonSSM.PutParameter', '{"Name":"/x"}')).toMatchObject({
      status: 400,
      json: { __type: 'UnknownOperationException' },
    })
    expect(aws.calls).toMatchObject([{ service: 'ssm', operation: 'PutParameter', names: [] }])
  })

  it('answers requests for no known service with UnknownOperationException, unrecorded', async () => {
    aws.resetCalls()
    for (const target of ['DynamoDB_20120810.GetItem', 'AmazonSSM', undefined]) {
      expect(await post(target, '{}')).toMatchObject({
        status: 400,
        json: { __type: 'UnknownOperationException' },
      })
    }
    expect(await post('AmazonSSM.GetParameter', '', 'GET')).toMatchObject({ status: 400 })
    expect(aws.callCount()).toBe(0)
  })

  it('answers a body that is not a JSON object with SerializationException', async () => {
    for (const body of ['{not json', '[1]', 'null']) {
      expect(await post('AmazonSSM.GetParameter', body)).toMatchObject({
        status: 400,
        json: { __type: 'SerializationException' },
      })
    }
  })

  it('answers malformed members with ValidationException naming the member', async () => {
    const cases: [string, string, RegExp][] = [
      [
        'AmazonSSM.GetParameter',
        '{}',
        /Value null at 'name' failed to satisfy constraint: Member must not be null/,
      ],
      ['AmazonSSM.GetParameter', '{"Name":""}', /at 'name' .*non-empty string/],
      [
        'AmazonSSM.GetParameter',
        '{"Name":"/app/url","WithDecryption":"yes"}',
        /at 'withDecryption' .*boolean/,
      ],
      ['AmazonSSM.GetParameters', '{"Names":"/app/url"}', /at 'names' .*list of 1 to 10 names/],
      ['AmazonSSM.GetParameters', '{"Names":[]}', /at 'names'/],
      ['AmazonSSM.GetParametersByPath', '{"Path":"/app","MaxResults":2.5}', /at 'maxResults' .*integer/],
      ['AmazonSSM.GetParametersByPath', '{"Path":"/app","NextToken":7}', /at 'nextToken'/],
    ]
    for (const [target, body, message] of cases) {
      const result = await post(target, body)
      expect(result.status).toBe(400)
      expect(result.json.__type).toBe('ValidationException')
      expect(result.json.message).toMatch(message)
    }
  })

  it('writes Secrets Manager messages as "Message", as that service does', async () => {
    expect(await post('secretsmanager.GetSecretValue', '{"SecretId":"nope"}')).toEqual({
      status: 400,
      type: 'application/x-amz-json-1.1',
      json: {
        __type: 'ResourceNotFoundException',
        Message: "Secrets Manager can't find the specified secret.",
      },
    })
  })

  it('records the names of a malformed request as far as they can be read', async () => {
    aws.resetCalls()
    await post('AmazonSSM.GetParameters', '{"Names":["/a",3]}')
    await post('AmazonSSM.GetParameter', '{not json')
    expect(aws.calls.map((call) => call.names)).toEqual([['/a'], []])
  })
})
