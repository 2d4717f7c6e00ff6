/**
 * The process of one simulated execution environment (forked by simulateLambda with an IPC
 * channel). It does what the Lambda Node.js runtime does: sets up the invoke store, imports the
 * handler module once (init), then runs each invocation it is sent inside the store. Logic lives
 * in ./lambda so that it is tested in-process; this file only wires it together.
 */
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { format } from 'node:util'
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store'
import { callHandler, findHandler, type LambdaHandler } from './lambda/call-handler.js'
import { lambdaContext } from './lambda/context.js'
import { endMark, taggedLines } from './lambda/log-lines.js'
import type { InvokeMessage, RunnerMessage } from './lambda/protocol.js'
import { initFailure, reportedError } from './lambda/reported-error.js'

const [modulePath = '', exportName = ''] = process.argv.slice(2)
const inFlight = new Set<string>()

function send(message: RunnerMessage): void {
  process.send?.(message)
}

/** Console output inside an invocation is tagged with its request id, as the runtime's logs are. */
function patchConsole(store: InvokeStoreBase): void {
  const requestId = () => {
    const id = store.getRequestId()
    return inFlight.has(id) ? id : undefined
  }
  const to =
    (stream: NodeJS.WriteStream) =>
    (...args: unknown[]) => {
      stream.write(taggedLines(format(...args), requestId()))
    }
  console.log = to(process.stdout)
  console.info = to(process.stdout)
  console.debug = to(process.stdout)
  console.warn = to(process.stderr)
  console.error = to(process.stderr)
}

async function invoke(store: InvokeStoreBase, handler: LambdaHandler, message: InvokeMessage): Promise<void> {
  const { requestId, event, deadline } = message
  // Just thawed: let what happened while frozen (a socket the server closed, a timer due) be
  // handled first, as it is in Lambda while the runtime reads the next event. A peer's close takes
  // more than one turn of the loop to surface: the read of EOF, then the shutdown of our side, then
  // the handle's close callback. One turn lost that race about one time in four; three never did.
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve))
  inFlight.add(requestId)
  const context = lambdaContext(process.env, requestId, deadline)
  const started = performance.now()
  const outcome = await store
    .run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: requestId }, () =>
      callHandler(handler, event, context),
    )
    .then(
      (result) => ({ ok: true, result }),
      (error: unknown) => ({ ok: false, error: reportedError(error) }),
    )
  const durationMs = performance.now() - started
  inFlight.delete(requestId)
  process.stdout.write(endMark(requestId))
  process.stderr.write(endMark(requestId))
  try {
    send({ type: 'result', requestId, durationMs, ...outcome })
  } catch (error) {
    // The result could not be cloned (a function, a socket): Lambda cannot serialize it either.
    const marshal = {
      name: 'Runtime.MarshalError',
      message: `Unable to serialize the result: ${reportedError(error).message}`,
    }
    send({ type: 'result', requestId, durationMs, ok: false, error: marshal })
  }
}

async function main(): Promise<void> {
  // The parent going away ends the environment: no orphan processes.
  process.on('disconnect', () => process.exit(0))
  const started = performance.now()
  let store: InvokeStoreBase
  let handler: LambdaHandler
  try {
    store = await InvokeStore.getInstanceAsync()
    patchConsole(store)
    const module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>
    handler = findHandler(module, exportName, process.env._HANDLER ?? exportName)
  } catch (error) {
    send({ type: 'init-error', initDurationMs: performance.now() - started, error: initFailure(error) })
    return
  }
  process.on('message', (message: InvokeMessage) => void invoke(store, handler, message))
  send({ type: 'ready', initDurationMs: performance.now() - started })
}

void main()
