import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

const PREFIX = '/2018-06-01/runtime'
const INVOCATION = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/

/** One invocation as the Runtime API hands it to the runtime. */
export interface RuntimeInvocation {
  readonly requestId: string
  /** The event as JSON text: the body of the answer to `GET .../invocation/next`. */
  readonly payload: string
  /** Wall-clock milliseconds (Lambda-Runtime-Deadline-Ms). */
  readonly deadlineMs: number
  readonly functionArn: string
  /** Lambda-Runtime-Trace-Id; an X-Ray header of a new, unsampled trace when not given. */
  readonly traceId?: string
  /** Lambda-Runtime-Client-Context (JSON text), sent only when given. */
  readonly clientContext?: string
  /** Lambda-Runtime-Cognito-Identity (JSON text), sent only when given. */
  readonly cognitoIdentity?: string
}

/** An error as the runtime posts it: `{ errorType, errorMessage, trace }`. */
export interface RuntimeError {
  readonly errorType: string
  readonly errorMessage: string
  readonly trace?: readonly string[]
  /** The Lambda-Runtime-Function-Error-Type header. */
  readonly header?: string
}

/** What the runtime does through the API. */
export interface RuntimeApiEvents {
  /** The runtime asked for its first invocation: init is done. `uptimeMs`: how long its process
   * had existed then, when the runtime's client says (warmstart's JavaScript client does). */
  ready(uptimeMs: number | undefined): void
  response(requestId: string, body: string): void
  error(requestId: string, error: RuntimeError): void
  initError(error: RuntimeError): void
}

/** A new trace id in X-Ray's format, as Lambda sends one to an unsampled function. */
export function newTraceId(now: number = Date.now()): string {
  const epoch = Math.floor(now / 1000).toString(16)
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`
}

function parseError(body: string, header: string | undefined): RuntimeError {
  try {
    const parsed = JSON.parse(body) as { errorType?: unknown; errorMessage?: unknown; trace?: unknown }
    const trace = Array.isArray(parsed.trace) ? parsed.trace.map(String) : undefined
    return {
      errorType: typeof parsed.errorType === 'string' ? parsed.errorType : (header ?? 'Unknown'),
      errorMessage: typeof parsed.errorMessage === 'string' ? parsed.errorMessage : '',
      ...(trace === undefined ? {} : { trace }),
      ...(header === undefined ? {} : { header }),
    }
  } catch {
    return { errorType: header ?? 'Unknown', errorMessage: body, ...(header === undefined ? {} : { header }) }
  }
}

function answer(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}

/**
 * The Lambda Runtime API (version 2018-06-01) for one execution environment, on a free port of
 * the loopback interface: `GET invocation/next` (held until there is an invocation, as Lambda
 * does), `POST invocation/{id}/response`, `POST invocation/{id}/error` and `POST init/error`.
 * Several `next` requests may wait at once (Managed Instances: the runtime keeps asking while it
 * runs invocations); invocations are handed out in the order they were given.
 */
export class RuntimeApi {
  private readonly server: Server
  private readonly waiting: ServerResponse[] = []
  private readonly queued: RuntimeInvocation[] = []
  /** Invocations handed out and not yet answered: a response for any other id is refused. */
  private readonly outstanding = new Set<string>()
  private asked = false
  private closing = false

  private constructor(
    private readonly events: RuntimeApiEvents,
    readonly port: number,
    server: Server,
  ) {
    this.server = server
  }

  /** Starts the API on 127.0.0.1 and a free port. */
  static start(events: RuntimeApiEvents): Promise<RuntimeApi> {
    return new Promise((resolve, reject) => {
      let api: RuntimeApi | undefined
      const server = createServer((request, response) => api?.handle(request, response))
      // `next` is a long poll that may wait as long as an environment stays idle (frozen).
      server.requestTimeout = 0
      server.headersTimeout = 0
      server.keepAliveTimeout = 0
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        api = new RuntimeApi(events, (server.address() as AddressInfo).port, server)
        resolve(api)
      })
    })
  }

  /** `host:port`, the value of AWS_LAMBDA_RUNTIME_API. */
  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  /** Hands the invocation to a waiting `next`, or to the next one to come. */
  invoke(invocation: RuntimeInvocation): void {
    this.queued.push(invocation)
    this.deliver()
  }

  /** Stops the server and drops what waits: the environment's process is gone. */
  close(): Promise<void> {
    this.closing = true
    for (const response of this.waiting.splice(0)) response.destroy()
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private deliver(): void {
    while (this.waiting.length > 0 && this.queued.length > 0) {
      const response = this.waiting.shift()!
      const invocation = this.queued.shift()!
      this.outstanding.add(invocation.requestId)
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': invocation.requestId,
        'lambda-runtime-deadline-ms': String(invocation.deadlineMs),
        'lambda-runtime-invoked-function-arn': invocation.functionArn,
        'lambda-runtime-trace-id': invocation.traceId ?? newTraceId(),
      }
      if (invocation.clientContext !== undefined)
        headers['lambda-runtime-client-context'] = invocation.clientContext
      if (invocation.cognitoIdentity !== undefined)
        headers['lambda-runtime-cognito-identity'] = invocation.cognitoIdentity
      response.writeHead(200, headers)
      response.end(invocation.payload)
    }
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => this.route(request, Buffer.concat(chunks).toString('utf8'), response))
  }

  private route(request: IncomingMessage, body: string, response: ServerResponse): void {
    const url = request.url ?? ''
    const header = request.headers['lambda-runtime-function-error-type']
    const errorType = typeof header === 'string' ? header : undefined
    if (request.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      if (this.closing) return void response.destroy()
      this.waiting.push(response)
      response.on('close', () => {
        const index = this.waiting.indexOf(response)
        if (index >= 0) this.waiting.splice(index, 1)
      })
      if (!this.asked) {
        this.asked = true
        const uptime = Number(request.headers['x-warmstart-process-uptime-ms'])
        this.events.ready(Number.isFinite(uptime) && uptime > 0 ? uptime : undefined)
      }
      this.deliver()
      return
    }
    if (request.method === 'POST' && url === `${PREFIX}/init/error`) {
      answer(response, 202, { status: 'OK' })
      this.events.initError(parseError(body, errorType))
      return
    }
    const match = request.method === 'POST' ? INVOCATION.exec(url) : null
    if (match === null) {
      answer(response, 404, { errorType: 'NotFound', errorMessage: `${request.method} ${url}` })
      return
    }
    const requestId = decodeURIComponent(match[1]!)
    if (!this.outstanding.delete(requestId)) {
      answer(response, 400, {
        errorType: 'InvalidRequestID',
        errorMessage: `no invocation ${requestId} in flight`,
      })
      return
    }
    answer(response, 202, { status: 'OK' })
    if (match[2] === 'response') this.events.response(requestId, body)
    else this.events.error(requestId, parseError(body, errorType))
  }
}
