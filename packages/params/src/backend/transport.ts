import type * as Http from 'node:http'
import type { Agent } from 'node:http'
import type * as Https from 'node:https'
import { AwsServiceError, MalformedResponseError } from './errors.js'
import { type Credentials, type Crypto, signRequest } from './sigv4.js'

/** The node modules the transport uses, loaded at the first request: importing warmstart loads none. */
interface NodeModules {
  readonly http: typeof Http
  readonly https: typeof Https
  readonly crypto: Crypto
}

let loading: Promise<NodeModules> | undefined
const agents: { 'http:'?: Agent; 'https:'?: Agent } = {}

function nodeModules(): Promise<NodeModules> {
  loading ??= Promise.all([import('node:http'), import('node:https'), import('node:crypto')]).then(
    ([http, https, crypto]) => ({ http, https, crypto }),
  )
  return loading
}

function agent(modules: NodeModules, protocol: 'http:' | 'https:'): Agent {
  // One keep-alive agent per protocol for the whole environment: a warm fetch reuses the TLS
  // connection. A pooled socket that the service closed while the process was frozen fails with
  // ECONNRESET on reuse, which is retried like any transient network error.
  let found = agents[protocol]
  if (found === undefined) {
    const Kind = protocol === 'https:' ? modules.https.Agent : modules.http.Agent
    found = new Kind({ keepAlive: true, maxSockets: 50 })
    agents[protocol] = found
  }
  return found
}

export interface JsonRequest {
  readonly url: URL
  /** The signing name: 'ssm', 'secretsmanager'. */
  readonly service: string
  readonly region: string
  /** `X-Amz-Target`: 'AmazonSSM.GetParameters'. */
  readonly target: string
  readonly body: unknown
  readonly credentials: Credentials
  /** Milliseconds one attempt may take, connection included. */
  readonly timeout: number
  readonly signal: AbortSignal
}

/** The largest answer read: 20 secrets of 64 KiB each, base64, fit many times over. */
const MAX_BODY = 16 * 1024 * 1024

/**
 * One attempt of an AWS JSON 1.1 call. Resolves with the parsed body of a 200 answer; rejects with
 * an AwsServiceError for an error answer, a MalformedResponseError for a 200 that is not a JSON
 * object, a Node network error (`code` ECONNRESET, ...), a TimeoutError, or `signal.reason`.
 */
export async function sendJson(request: JsonRequest): Promise<Record<string, unknown>> {
  const modules = await nodeModules()
  request.signal.throwIfAborted()
  const { url } = request
  const protocol = url.protocol === 'http:' ? 'http:' : 'https:'
  const body = JSON.stringify(request.body)
  const headers = signRequest(modules.crypto, {
    method: 'POST',
    host: url.host,
    path: url.pathname,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': request.target,
    },
    body,
    region: request.region,
    service: request.service,
    credentials: request.credentials,
    now: Date.now(),
  })
  headers['content-length'] = String(Buffer.byteLength(body))
  const operation = request.target.slice(request.target.indexOf('.') + 1)

  const lib = protocol === 'https:' ? modules.https : modules.http
  const { status, text, requestId, errorType } = await new Promise<{
    status: number
    text: string
    requestId: string | undefined
    errorType: string | undefined
  }>((resolve, reject) => {
    let settled = false
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      request.signal.removeEventListener('abort', onAbort)
      outgoing.destroy()
      reject(error)
    }
    const onAbort = () => fail(request.signal.reason)
    const timer = setTimeout(
      () =>
        fail(
          Object.assign(new Error(`${operation}: no answer within ${request.timeout} ms`), {
            name: 'TimeoutError',
          }),
        ),
      request.timeout,
    )
    const outgoing = lib.request(
      {
        protocol,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers,
        agent: agent(modules, protocol),
      },
      (response) => {
        const chunks: Buffer[] = []
        let size = 0
        response.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_BODY) fail(new MalformedResponseError(operation, `an answer over ${MAX_BODY} bytes`))
          else chunks.push(chunk)
        })
        // A connection lost mid-answer is an 'error' here (ECONNRESET, "aborted").
        response.on('error', fail)
        response.on('end', () => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          request.signal.removeEventListener('abort', onAbort)
          const header = (name: string) => {
            const value = response.headers[name]
            return typeof value === 'string' ? value : undefined
          }
          resolve({
            status: response.statusCode as number, // always set on a client's response
            text: Buffer.concat(chunks).toString('utf8'),
            requestId: header('x-amzn-requestid'),
            errorType: header('x-amzn-errortype'),
          })
        })
      },
    )
    request.signal.addEventListener('abort', onAbort, { once: true })
    outgoing.on('error', fail)
    outgoing.end(body)
  })

  const parsed = parseObject(text)
  if (status >= 200 && status < 300) {
    if (parsed === undefined) throw new MalformedResponseError(operation, 'the body is not a JSON object')
    return parsed
  }
  throw serviceError(status, parsed, errorType, requestId)
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

// The error type is the body's `__type` or the `x-amzn-errortype` header, either of which may carry
// a namespace ('com.amazon.coral.service#UnrecognizedClientException') or a suffix (':http://...').
function serviceError(
  status: number,
  body: Record<string, unknown> | undefined,
  header: string | undefined,
  requestId: string | undefined,
): AwsServiceError {
  const raw = typeof body?.__type === 'string' ? body.__type : header
  const type = raw?.split(':')[0]?.split('#').pop() || (status >= 500 ? 'InternalFailure' : 'UnknownError')
  const message = body?.message ?? body?.Message
  return new AwsServiceError(type, status, typeof message === 'string' ? message : undefined, requestId)
}
