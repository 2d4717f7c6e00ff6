/**
 * Two small CommonJS files that simulateLambda writes next to each other in a temporary
 * directory for `runtime: 'ric'`. aws-lambda-ric talks to the Runtime API through a native addon,
 * `rapid-client.node`, that its install script compiles (cmake, a C++ compiler, curl and
 * aws-lambda-cpp from source); package managers that hold install scripts back (pnpm 10, npm 11)
 * leave it out. The preload, given to the runtime's process with `--require`, answers the
 * runtime's own `require('./rapid-client.node')` with the JavaScript client when the addon is not
 * there, and leaves a built addon alone. The client does what the addon's three functions do
 * (`next`, `done`, `error`) over plain HTTP; everything else is the runtime's own code.
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
const http = require('node:http')
const api = process.env.AWS_LAMBDA_RUNTIME_API ?? ''
const colon = api.lastIndexOf(':')
const hostname = api.slice(0, colon)
const port = Number(api.slice(colon + 1))
const BASE = '/2018-06-01/runtime'
const nextAgent = new http.Agent({ keepAlive: true, maxSockets: 1 })
const postAgent = new http.Agent({ keepAlive: true })
function call(agent, method, path, body, headers) {
  return new Promise((resolve, reject) => {
    const request = http.request({ hostname, port, path, method, agent, headers }, (response) => {
      let data = ''
      response.setEncoding('utf8')
      response.on('data', (chunk) => { data += chunk })
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: data }))
      response.on('error', reject)
    })
    request.on('error', reject)
    request.end(body)
  })
}
exports.next = async function next() {
  const answer = await call(nextAgent, 'GET', \`\${BASE}/invocation/next\`)
  if (answer.status !== 200) throw new Error(\`Runtime API: GET next answered \${answer.status}\`)
  const headers = { ...answer.headers, 'lambda-runtime-deadline-ms': Number(answer.headers['lambda-runtime-deadline-ms']) }
  return { bodyJson: answer.body, headers }
}
function post(path, body, headers) {
  call(postAgent, 'POST', path, body, { 'content-type': 'application/json', ...headers }).catch(() => undefined)
}
exports.done = function done(id, body) { post(\`\${BASE}/invocation/\${id}/response\`, body, {}) }
exports.error = function error(id, body) {
  let type = 'Unhandled'
  try { type = JSON.parse(body).errorType ?? type } catch {}
  post(\`\${BASE}/invocation/\${id}/error\`, body, { 'lambda-runtime-function-error-type': String(type).replace(/[^\\x20-\\x7e]/g, '?') })
}
`
