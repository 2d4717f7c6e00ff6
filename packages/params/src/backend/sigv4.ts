import type { createHash, createHmac } from 'node:crypto'

/** What signing needs of node:crypto, passed in so that importing this file loads nothing. */
export interface Crypto {
  readonly createHash: typeof createHash
  readonly createHmac: typeof createHmac
}

export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
}

export interface SignInput {
  readonly method: 'POST'
  /** host[:port], exactly as sent in the Host header. */
  readonly host: string
  /** The request path, already percent-encoded as sent ('/' for the AWS JSON services). */
  readonly path: string
  /** Lower-case names. `host`, `x-amz-date` and `x-amz-security-token` are added here. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly region: string
  readonly service: string
  readonly credentials: Credentials
  /** Wall-clock milliseconds. */
  readonly now: number
}

/**
 * AWS Signature Version 4 for a request without a query string, as the JSON 1.1 services take it
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
 * Returns the headers to send: the input's, plus host, x-amz-date, the session token when there is
 * one, and authorization. Every header given is signed.
 */
export function signRequest(crypto: Crypto, input: SignInput): Record<string, string> {
  const amzDate = new Date(input.now).toISOString().replace(/[-:]|\.\d{3}/g, '') // 20260101T120000Z
  const day = amzDate.slice(0, 8)
  const headers: Record<string, string> = { ...input.headers, host: input.host, 'x-amz-date': amzDate }
  const token = input.credentials.sessionToken
  if (token !== undefined && token !== '') headers['x-amz-security-token'] = token
  const names = Object.keys(headers).sort()
  const canonicalHeaders = names
    .map((name) => `${name}:${(headers[name] as string).trim().replace(/\s+/g, ' ')}\n`)
    .join('')
  const signedHeaders = names.join(';')
  const canonicalRequest = [
    input.method,
    canonicalPath(input.path),
    '', // no query string
    canonicalHeaders,
    signedHeaders,
    hex(crypto, input.body),
  ].join('\n')
  const scope = `${day}/${input.region}/${input.service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(crypto, canonicalRequest)].join('\n')
  const signature = crypto
    .createHmac(
      'sha256',
      signingKey(crypto, input.credentials.secretAccessKey, day, input.region, input.service),
    )
    .update(stringToSign)
    .digest('hex')
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`
  return headers
}

function hex(crypto: Crypto, data: string): string {
  return crypto.createHash('sha256').update(data).digest('hex')
}

// The key depends on the secret, the day, the region and the service only: the last one is kept,
// which saves four HMACs per request (one provider signs for one service and region all day).
let lastKey: { id: string; key: Buffer } | undefined

function signingKey(crypto: Crypto, secret: string, day: string, region: string, service: string): Buffer {
  const id = `${day}\n${region}\n${service}\n${secret}`
  if (lastKey?.id === id) return lastKey.key
  const step = (key: string | Buffer, data: string) => crypto.createHmac('sha256', key).update(data).digest()
  const key = step(step(step(step(`AWS4${secret}`, day), region), service), 'aws4_request')
  lastKey = { id, key }
  return key
}

// Services other than S3 want each path segment encoded once more (RFC 3986, '/' kept).
function canonicalPath(path: string): string {
  if (path === '' || path === '/') return '/'
  return path
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/')
}
