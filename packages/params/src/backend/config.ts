import { invalidOption } from '@warmstart/core/internal'
import type { Credentials } from './sigv4.js'

/** How a service is reached on the default path. */
export interface ServiceSpec {
  /** The signing name and the endpoint's first label: 'ssm', 'secretsmanager'. */
  readonly signingName: string
  /** The suffix of its AWS_ENDPOINT_URL_<SERVICE> variable: 'SSM', 'SECRETS_MANAGER'. */
  readonly envName: string
  /** The X-Amz-Target prefix: 'AmazonSSM', 'secretsmanager'. */
  readonly targetPrefix: string
}

export const SSM: ServiceSpec = { signingName: 'ssm', envName: 'SSM', targetPrefix: 'AmazonSSM' }
export const SECRETS_MANAGER: ServiceSpec = {
  signingName: 'secretsmanager',
  envName: 'SECRETS_MANAGER',
  targetPrefix: 'secretsmanager',
}

/** What the SDK's own chains give when the environment has no credentials or region. */
export interface SdkChains {
  credentials(): Promise<Credentials>
  region(): Promise<string>
}

/** The endpoint option, checked when the provider is made. */
export function checkEndpoint(component: string, endpoint: unknown): URL | undefined {
  if (endpoint === undefined) return undefined
  const url = typeof endpoint === 'string' ? parseUrl(endpoint) : undefined
  if (url === undefined) throw invalidOption(component, 'endpoint', "must be an 'https://' or 'http://' URL")
  return url
}

export function checkRegion(component: string, region: unknown): string | undefined {
  if (region === undefined) return undefined
  if (typeof region !== 'string' || !/^[a-z0-9-]+$/.test(region)) {
    throw invalidOption(component, 'region', "must be a region name such as 'eu-west-1'")
  }
  return region
}

function parseUrl(text: string): URL | undefined {
  try {
    const url = new URL(text)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined
  } catch {
    return undefined
  }
}

/** The region: the option, else AWS_REGION (the Lambda runtime sets it), else AWS_DEFAULT_REGION. */
export function regionFromEnvironment(env: NodeJS.ProcessEnv): string | undefined {
  return nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION)
}

/**
 * The endpoint, in the SDK's order: the option, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL
 * (neither when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true), then the service's regional
 * endpoint (FIPS when AWS_USE_FIPS_ENDPOINT is true; `.amazonaws.com.cn` in the China regions).
 */
export function resolveEndpoint(
  spec: ServiceSpec,
  option: URL | undefined,
  region: string,
  env: NodeJS.ProcessEnv,
): URL {
  if (option !== undefined) return option
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() !== 'true') {
    for (const name of [`AWS_ENDPOINT_URL_${spec.envName}`, 'AWS_ENDPOINT_URL']) {
      const value = nonEmpty(env[name])
      if (value === undefined) continue
      const url = parseUrl(value)
      if (url === undefined)
        throw invalidOption('environment', name, "must be an 'https://' or 'http://' URL")
      return url
    }
  }
  const fips = env.AWS_USE_FIPS_ENDPOINT?.toLowerCase() === 'true' ? '-fips' : ''
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  return new URL(`https://${spec.signingName}${fips}.${region}.${domain}/`)
}

/** The pair that signs a request; AWS_SESSION_TOKEN goes with it when the credentials are temporary. */
const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const

/**
 * Credentials as the Lambda runtime provides them, or undefined when the environment has none (the
 * SDK's chain is then asked). Part of a set is an error that names what is missing, never a value:
 * the runtime sets all three, so a key id without its secret (or the reverse, or a session token
 * alone) is a mistake, and the chain would sign as another identity or, in a bundle without the
 * SDK, fail asking for the SDK.
 */
export function credentialsFromEnvironment(env: NodeJS.ProcessEnv): Credentials | undefined {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID)
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY)
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN)
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    return { accessKeyId, secretAccessKey, sessionToken }
  }
  if (accessKeyId === undefined && secretAccessKey === undefined && sessionToken === undefined)
    return undefined
  const [missing, ...alsoMissing] = CREDENTIAL_VARIABLES.filter((name) => nonEmpty(env[name]) === undefined)
  const set = [...CREDENTIAL_VARIABLES, 'AWS_SESSION_TOKEN'].filter(
    (name) => nonEmpty(env[name]) !== undefined,
  )
  throw invalidOption(
    'environment',
    missing as string,
    `is not set${alsoMissing.map((name) => `, nor ${name}`).join('')}, while ${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'}: ` +
      "set the whole credential set, or none of it for the SDK's credential chain",
  )
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
