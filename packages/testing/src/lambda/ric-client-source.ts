/**
 * Two small CommonJS files that simulateLambda writes next to each other in a temporary
 * directory for `runtime: 'ric'`. aws-lambda-ric talks to the Runtime API through a native addon,
 * `rapid-client.node`, that its install script compiles (cmake, a C++ compiler, curl and
 * aws-lambda-cpp from source); package managers that hold install scripts back (pnpm 10, npm 11)
 * leave it out. The preload, given to the runtime's process with `--require`, answers the
 * runtime's own `require('./rapid-client.node')` with the JavaScript client when the addon is not
 * there, and leaves a built addon alone. The client does what the addon's three functions do
 * (`next`, `done`, `error`) over plain HTTP, `done` and `error` blocking as the addon's do; everything else is the runtime's own code.
 */

/** `--require`d into the runtime's process (and its worker threads, which inherit execArgv). */
export const RIC_PRELOAD = `'use strict'
// Loaded with --require into the aws-lambda-ric process: when the package's native Runtime API
// client (rapid-client.node, built by its install script) is absent, its require gets the
// JavaScript client beside this file instead.
const Module = require('node:module')
const { existsSync } = require('node:fs')
const { join } = require('node:path')
const resolveFilename = Module._resolveFilename
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === './rapid-client.node' && parent && typeof parent.filename === 'string') {
    const native = join(parent.filename, '..', 'rapid-client.node')
    if (!existsSync(native)) return join(__dirname, 'rapid-client.cjs')
  }
  return resolveFilename.call(this, request, parent, ...rest)
}
`

/** The Runtime API client the preload hands to aws-lambda-ric, as `rapid-client.cjs`. */
export const RIC_CLIENT = `'use strict'
// The three functions of aws-lambda-ric's native rapid-client.node, in JavaScript. Like the
// addon, done() and error() return only once the Runtime API has answered the post (the addon
// makes a blocking curl call): the thread waits on a shared flag while a worker thread sends
// the request, so nothing else in the function runs between its result and the freeze.
const http = require('node:http')
const { Worker } = require('node:worker_threads')
const api = process.env.AWS_LAMBDA_RUNTIME_API ?? ''
const colon = api.lastIndexOf(':')
const hostname = api.slice(0, colon)
const port = Number(api.slice(colon + 1))
const BASE = '/2018-06-01/runtime'
const nextAgent = new http.Agent({ keepAlive: true, maxSockets: 1 })

const POSTER = \`
const http = require('node:http')
const { parentPort, workerData } = require('node:worker_threads')
const agent = new http.Agent({ keepAlive: true })
parentPort.on('message', ({ path, body, headers }) => {
  let answered = false
  const done = () => {
    if (answered) return
    answered = true
    Atomics.store(workerData.flag, 0, 1)
    Atomics.notify(workerData.flag, 0)
  }
  const request = http.request(
    { hostname: workerData.hostname, port: workerData.port, path, method: 'POST', agent, headers },
    (response) => {
      response.on('end', done).on('error', done).resume()
    },
  )
  request.on('error', done)
  request.end(body)
})
\`
const flag = new Int32Array(new SharedArrayBuffer(4))
const poster = new Worker(POSTER, { eval: true, workerData: { hostname, port, flag } })
poster.unref()

function postAndWait(path, body, headers) {
  Atomics.store(flag, 0, 0)
  poster.postMessage({ path, body, headers: { 'content-type': 'application/json', ...headers } })
  Atomics.wait(flag, 0, 0)
}

let asked = false

exports.next = function next() {
  // The first request tells how long the process has existed (performance.timeOrigin is its
  // start): init as the process measures it, which the parent cannot see from outside.
  const headers = asked ? {} : { 'x-warmstart-process-uptime-ms': String(performance.now()) }
  asked = true
  return new Promise((resolve, reject) => {
    const request = http.request(
      { hostname, port, path: \`\${BASE}/invocation/next\`, method: 'GET', agent: nextAgent, headers },
      (response) => {
        let data = ''
        response.setEncoding('utf8')
        response.on('data', (chunk) => {
          data += chunk
        })
        response.on('error', reject)
        response.on('end', () => {
          if (response.statusCode !== 200) {
            reject(new Error(\`Runtime API: GET next answered \${response.statusCode}\`))
            return
          }
          const headers = { ...response.headers }
          headers['lambda-runtime-deadline-ms'] = Number(headers['lambda-runtime-deadline-ms'])
          resolve({ bodyJson: data, headers })
        })
      },
    )
    request.on('error', reject)
    request.end()
  })
}

exports.done = function done(id, body) {
  postAndWait(\`\${BASE}/invocation/\${id}/response\`, body, {})
}

exports.error = function error(id, body) {
  let type = 'Unhandled'
  try {
    type = String(JSON.parse(body).errorType ?? type)
  } catch {}
  // A header value must be printable ASCII.
  postAndWait(\`\${BASE}/invocation/\${id}/error\`, body, {
    'lambda-runtime-function-error-type': type.replace(/[^\\x20-\\x7e]/g, '?'),
  })
}
`
