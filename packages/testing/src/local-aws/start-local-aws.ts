import { type Clock, describeValue, invalidOption, systemClock } from '@warmstart/core'
import { FaultSchedule } from './fault-schedule.js'
import { HttpEndpoint } from './http-endpoint.js'
import { ParameterStore } from './parameter-store.js'
import { requestHandler } from './request-handler.js'
import { SecretStore } from './secret-store.js'
import { secretsManagerApi } from './secrets-manager-api.js'
import { ssmApi } from './ssm-api.js'
import type { LocalAws, LocalAwsCall, LocalAwsCallFilter, LocalAwsOptions } from './types.js'

const REGION = 'us-east-1'
const ACCOUNT = '123456789012'
const CREDENTIALS = { accessKeyId: 'AKIALOCALAWS', secretAccessKey: 'local-aws-secret' } as const

/**
 * Starts a local SSM Parameter Store and Secrets Manager on 127.0.0.1 that the real AWS SDK v3
 * clients talk to unchanged over the AWS JSON 1.1 protocol, seeded with `options`. Always `stop()` it.
 */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const clock = readOptions(options)
  const credentials =
    options.sessionToken === undefined
      ? { ...CREDENTIALS }
      : { ...CREDENTIALS, sessionToken: options.sessionToken }
  const parameters = new ParameterStore(clock)
  const secrets = new SecretStore(clock, `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:`)
  for (const [name, value] of Object.entries(options.parameters ?? {})) parameters.put(name, value)
  for (const [name, value] of Object.entries(options.secrets ?? {})) secrets.put(name, value)

  const faults = new FaultSchedule()
  let calls: LocalAwsCall[] = []
  const endpoint = await HttpEndpoint.start(
    requestHandler({
      apis: [ssmApi(parameters, `arn:aws:ssm:${REGION}:${ACCOUNT}:`), secretsManagerApi(secrets)],
      faults,
      clock,
      signatures:
        options.verifySignatures === true
          ? { ...CREDENTIALS, sessionToken: options.sessionToken }
          : undefined,
      record: (call) => calls.push(Object.freeze(call)),
    }),
  )

  return {
    endpoint: endpoint.url,
    // A fresh object each time: the SDK writes into the credentials object it is given.
    get clientConfig() {
      return { endpoint: endpoint.url, region: REGION, credentials: { ...credentials } }
    },
    env: Object.freeze({
      AWS_ENDPOINT_URL_SSM: endpoint.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      ...(options.sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: options.sessionToken }),
    }),
    putParameter: (name, value) => parameters.put(name, value),
    putSecret: (id, value) => secrets.put(id, value),
    rotateSecret: (id, value) => secrets.rotate(id, value),
    get calls() {
      return [...calls]
    },
    callCount: (filter: LocalAwsCallFilter = {}) =>
      calls.filter(
        (call) =>
          (filter.service === undefined || call.service === filter.service) &&
          (filter.operation === undefined || call.operation === filter.operation),
      ).length,
    resetCalls: () => {
      calls = []
    },
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    stop: () => endpoint.stop(),
  }
}

function readOptions(options: LocalAwsOptions): Clock {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('startLocalAws', 'options', `must be an object (got ${describeValue(options)})`)
  }
  for (const key of ['parameters', 'secrets'] as const) {
    const value: unknown = options[key]
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw invalidOption(
        'startLocalAws',
        key,
        `must be an object of name to value (got ${describeValue(value)})`,
      )
    }
  }
  if (options.verifySignatures !== undefined && typeof options.verifySignatures !== 'boolean') {
    throw invalidOption(
      'startLocalAws',
      'verifySignatures',
      `must be a boolean (got ${describeValue(options.verifySignatures)})`,
    )
  }
  if (
    options.sessionToken !== undefined &&
    (typeof options.sessionToken !== 'string' || options.sessionToken === '')
  ) {
    throw invalidOption('startLocalAws', 'sessionToken', 'must be a non-empty string')
  }
  const clock: unknown = options.clock ?? systemClock
  if (typeof (clock as Partial<Clock>).now !== 'function') {
    throw invalidOption(
      'startLocalAws',
      'clock',
      'must be an object with a now() method returning milliseconds',
    )
  }
  return clock as Clock
}
