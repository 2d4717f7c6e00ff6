import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Clock } from '@warmstart/core'
import type { FaultSchedule } from './fault-schedule.js'
import type { Delay, RequestHandler } from './http-endpoint.js'
import { namesIn, type RequestBody } from './request-fields.js'
import type { ServiceApi } from './service-api.js'
import { ServiceError, throttlingError } from './service-error.js'
import { checkSignature, type KnownCredentials } from './signature.js'
import type { LocalAwsCall } from './types.js'

export interface Dispatch {
  readonly apis: readonly ServiceApi[]
  readonly faults: FaultSchedule
  readonly clock: Clock
  /** With `verifySignatures`: the credentials whose signatures are checked in full. */
  readonly signatures: KnownCredentials | undefined
  record(call: LocalAwsCall): void
}

const CONTENT_TYPE = 'application/x-amz-json-1.1'

/**
 * Answers AWS JSON 1.1 requests: `POST /` with `X-Amz-Target: <prefix>.<Operation>`. Every request
 * addressed to a known service is recorded before faults apply, because a test counts what reached
 * the server, retries included.
 */
export function requestHandler(dispatch: Dispatch): RequestHandler {
  return (request, response, delay) => {
    void answer(dispatch, request, response, delay)
  }
}

async function answer(dispatch: Dispatch, request: IncomingMessage, response: ServerResponse, delay: Delay) {
  let raw: string
  try {
    raw = await readBody(request)
  } catch {
    return // the client went away mid-request
  }
  const [prefix, operationName] = String(request.headers['x-amz-target'] ?? '').split('.')
  const api = dispatch.apis.find((candidate) => candidate.targetPrefix === prefix)
  if (request.method !== 'POST' || api === undefined || operationName === undefined) {
    return send(response, 400, { __type: 'UnknownOperationException' })
  }
  const body = parseBody(raw)
  const operation = api.operations.get(operationName)
  let signature: LocalAwsCall['signature']
  let unsigned: ServiceError | undefined
  if (dispatch.signatures !== undefined) {
    try {
      signature = checkSignature(request, raw, api.service, dispatch.signatures)
    } catch (error) {
      signature = 'rejected'
      unsigned = error as ServiceError
    }
  }
  dispatch.record({
    service: api.service,
    operation: operationName,
    names: operation === undefined ? [] : namesIn(body, operation.namesField),
    time: dispatch.clock.now(),
    ...(signature === undefined ? {} : { signature }),
  })
  // The services check the signature before anything else, throttling included.
  if (unsigned !== undefined) return sendError(response, api, unsigned)

  const plan = dispatch.faults.take(api.service, operationName)
  if (plan.latencyMs > 0) await delay(plan.latencyMs)
  switch (plan.failure) {
    case 'hang':
      return // answered by nobody: the client's timeout or stop() ends it
    case 'drop':
      request.socket.destroy()
      return
    case 'respond': {
      const { status, body: text, headers } = plan.answer as NonNullable<typeof plan.answer>
      response.writeHead(status, {
        'content-type': CONTENT_TYPE,
        'content-length': Buffer.byteLength(text),
        ...headers,
      })
      response.end(text)
      return
    }
    case 'throttle':
      return sendError(response, api, throttlingError())
    case 'server-error':
      return sendError(
        response,
        api,
        new ServiceError(500, api.internalErrorType, 'Internal error injected by startLocalAws'),
      )
  }

  if (operation === undefined)
    return sendError(response, api, new ServiceError(400, 'UnknownOperationException'))
  if (body === undefined) {
    return sendError(
      response,
      api,
      new ServiceError(400, 'SerializationException', 'The request body is not a JSON object'),
    )
  }
  try {
    send(response, 200, operation.run(body))
  } catch (error) {
    sendError(
      response,
      api,
      error instanceof ServiceError ? error : new ServiceError(500, api.internalErrorType, String(error)),
    )
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function parseBody(raw: string): RequestBody | undefined {
  try {
    const body: unknown = JSON.parse(raw)
    return typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as RequestBody)
      : undefined
  } catch {
    return undefined
  }
}

function sendError(response: ServerResponse, api: ServiceApi, error: ServiceError): void {
  send(response, error.status, {
    __type: error.type,
    ...(error.detail === undefined ? {} : { [api.messageKey]: error.detail }),
  })
}

function send(response: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload)
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  })
  response.end(body)
}
