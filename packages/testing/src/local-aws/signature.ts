import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { ServiceError } from './service-error.js'

/** The credentials the endpoint knows the secret of. */
export interface KnownCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken: string | undefined
}

/** How a request's signature was judged: computed again and equal, or only its shape checked. */
export type SignatureCheck = 'verified' | 'shape-only'

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/
const AMZ_DATE = /^\d{8}T\d{6}Z$/

/**
 * Checks a request's SigV4 signature as the services do, in the order they do: present, well
 * formed, for this service, with the session token that goes with the access key, and equal to
 * the one computed again from the request and the secret. A request signed with another access
 * key (a handler's dummy credentials) has its shape checked only: the endpoint does not know that
 * secret. Returns the check, or throws the ServiceError the service would answer with.
 */
export function checkSignature(
  request: IncomingMessage,
  body: string,
  signingName: string,
  known: KnownCredentials,
): SignatureCheck {
  const authorization = header(request, 'authorization')
  if (authorization === undefined) {
    throw new ServiceError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token')
  }
  const match = AUTH.exec(authorization)
  const amzDate = header(request, 'x-amz-date')
  if (match === null || amzDate === undefined || !AMZ_DATE.test(amzDate)) {
    throw new ServiceError(
      400,
      'IncompleteSignatureException',
      'Authorization header requires Credential, SignedHeaders and Signature, and X-Amz-Date must be set',
    )
  }
  const [, accessKeyId, day, region, service, signedHeaders, signature] = match as unknown as string[]
  const names = (signedHeaders as string).split(';')
  if (service !== signingName || day !== amzDate.slice(0, 8)) {
    throw new ServiceError(
      403,
      'InvalidSignatureException',
      `Credential should be scoped to a valid day and to the service '${signingName}'`,
    )
  }
  const token = header(request, 'x-amz-security-token')
  if (
    !names.includes('host') ||
    !names.includes('x-amz-date') ||
    (token !== undefined && !names.includes('x-amz-security-token'))
  ) {
    throw new ServiceError(
      403,
      'InvalidSignatureException',
      'host, x-amz-date and x-amz-security-token must be signed',
    )
  }
  if (accessKeyId !== known.accessKeyId) return 'shape-only'
  if (token !== known.sessionToken) {
    throw new ServiceError(
      403,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    )
  }

  const canonical = [
    request.method ?? '',
    new URL(request.url ?? '/', 'http://local').pathname,
    '',
    names.map((name) => `${name}:${(header(request, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaders,
    sha256(body),
  ].join('\n')
  const scope = `${day}/${region}/${service}/aws4_request`
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`
  let key: Buffer = Buffer.from(`AWS4${known.secretAccessKey}`)
  for (const part of [day, region, service, 'aws4_request'] as string[]) key = hmac(key, part)
  const expected = hmac(key, toSign)
  if (!timingSafeEqual(expected, Buffer.from(signature as string, 'hex'))) {
    throw new ServiceError(
      403,
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided.',
    )
  }
  return 'verified'
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex')
const hmac = (key: Buffer, data: string) => createHmac('sha256', key).update(data).digest()
