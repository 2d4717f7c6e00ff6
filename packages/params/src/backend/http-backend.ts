import {
  credentialsFromEnvironment,
  regionFromEnvironment,
  resolveEndpoint,
  type SdkChains,
  SECRETS_MANAGER,
  type ServiceSpec,
  SSM,
} from './config.js'
import { MalformedResponseError } from './errors.js'
import { type RetryPolicy, STANDARD_RETRY, withRetries } from './retry.js'
import type { Credentials } from './sigv4.js'
import { sendJson } from './transport.js'
import type {
  BatchGetSecretValueOutput,
  CallOptions,
  GetParametersByPathOutput,
  GetParametersOutput,
  SecretsBackend,
  SsmBackend,
  WireParameter,
  WireSecret,
} from './types.js'

export interface HttpBackendOptions {
  /** The `endpoint` option; else the environment's or the regional one. */
  readonly endpoint?: URL | undefined
  /** The `region` option; else AWS_REGION / AWS_DEFAULT_REGION. */
  readonly region?: string | undefined
  /**
   * The SDK's credential and region chains, used only when the environment has no credentials
   * (or no region): this loads the service's SDK, which the default path otherwise never does.
   */
  readonly chains: () => Promise<SdkChains>
  readonly retry?: RetryPolicy
  /** Milliseconds one attempt may take. Default 2000: the services answer in tens of ms. */
  readonly attemptTimeout?: number
  readonly env?: NodeJS.ProcessEnv
}

const ATTEMPT_TIMEOUT = 2000

/** Signs and sends the calls of one service, with the retry policy, bounded by each call's signal. */
class JsonService {
  readonly #spec: ServiceSpec
  readonly #options: HttpBackendOptions

  constructor(spec: ServiceSpec, options: HttpBackendOptions) {
    this.#spec = spec
    this.#options = options
  }

  async call(operation: string, body: unknown, { signal }: CallOptions): Promise<Record<string, unknown>> {
    const env = this.#options.env ?? process.env
    const region =
      this.#options.region ?? regionFromEnvironment(env) ?? (await (await this.#chains(signal)).region())
    const url = resolveEndpoint(this.#spec, this.#options.endpoint, region, env)
    return withRetries(this.#options.retry ?? STANDARD_RETRY, signal, async () => {
      // Read for every attempt: the runtime's variables are the credentials of the environment.
      const credentials: Credentials =
        credentialsFromEnvironment(env) ?? (await (await this.#chains(signal)).credentials())
      return sendJson({
        url,
        service: this.#spec.signingName,
        region,
        target: `${this.#spec.targetPrefix}.${operation}`,
        body,
        credentials,
        timeout: this.#options.attemptTimeout ?? ATTEMPT_TIMEOUT,
        signal,
      })
    })
  }

  async #chains(signal: AbortSignal): Promise<SdkChains> {
    const chains = await this.#options.chains()
    signal.throwIfAborted()
    return chains
  }
}

export function httpSsmBackend(options: HttpBackendOptions): SsmBackend {
  const service = new JsonService(SSM, options)
  return {
    kind: 'http',
    async getParameter(input, call) {
      const output = await service.call('GetParameter', input, call)
      const parameter = output.Parameter
      if (!isObject(parameter)) throw new MalformedResponseError('GetParameter', 'no Parameter')
      return { Parameter: parameter as WireParameter }
    },
    async getParameters(input, call) {
      const output = await service.call('GetParameters', input, call)
      return {
        Parameters: list(output, 'Parameters', 'GetParameters') as WireParameter[],
        InvalidParameters: list(output, 'InvalidParameters', 'GetParameters') as string[],
      } satisfies GetParametersOutput
    },
    async getParametersByPath(input, call) {
      const output = await service.call('GetParametersByPath', input, call)
      const token = output.NextToken
      return {
        Parameters: list(output, 'Parameters', 'GetParametersByPath') as WireParameter[],
        ...(typeof token === 'string' ? { NextToken: token } : {}),
      } satisfies GetParametersByPathOutput
    },
  }
}

export function httpSecretsBackend(options: HttpBackendOptions): SecretsBackend {
  const service = new JsonService(SECRETS_MANAGER, options)
  return {
    kind: 'http',
    async getSecretValue(input, call) {
      return secret(await service.call('GetSecretValue', input, call), 'GetSecretValue')
    },
    async batchGetSecretValue(input, call) {
      const output = await service.call('BatchGetSecretValue', input, call)
      return {
        // An entry that is not an object names no secret: the provider answers its id as malformed.
        SecretValues: list(output, 'SecretValues', 'BatchGetSecretValue')
          .filter(isObject)
          .map((entry) => secret(entry, 'BatchGetSecretValue')),
        Errors: list(output, 'Errors', 'BatchGetSecretValue') as BatchGetSecretValueOutput['Errors'],
      }
    },
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A list member: absent is empty, anything but an array is a malformed answer. */
function list(output: Record<string, unknown>, member: string, operation: string): unknown[] {
  const value = output[member]
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new MalformedResponseError(operation, `${member} is not a list`)
  return value
}

// SecretBinary travels as base64 in JSON; the SDK hands it over as bytes, and so does this path.
function secret(entry: Record<string, unknown>, operation: string): WireSecret {
  const { SecretBinary, ...rest } = entry
  if (SecretBinary === undefined || SecretBinary === null) return rest as WireSecret
  if (typeof SecretBinary !== 'string')
    throw new MalformedResponseError(operation, 'SecretBinary is not base64')
  return { ...(rest as WireSecret), SecretBinary: new Uint8Array(Buffer.from(SecretBinary, 'base64')) }
}
