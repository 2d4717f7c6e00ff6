import { emit, invalidOption, processWide } from '@warmstart/core/internal'
import { configKey } from './config-key.js'
import { withLambdaDefaults } from './lambda-defaults.js'

/** One client per class and config key, for the whole process (every copy of this package shares it). */
const clientsByClass = /* @__PURE__ */ processWide(
  'client:aws-clients',
  () => new WeakMap<object, Map<string, object>>(),
)

/**
 * One AWS SDK v3 client per class and equal config for the whole execution environment, so that
 * every package and the user's code share one client and its keep-alive connections. Configs are
 * equal when they are deep-equal plain data; functions and class instances compare by identity.
 * Lambda defaults apply where the config says nothing: `region` from `AWS_REGION`,
 * `maxAttempts: 3`, and a request handler with a 1 s connect and 3 s request timeout.
 */
export function awsClient<C extends object, A extends unknown[]>(
  ClientClass: new (...args: A) => C,
  config?: A[0],
): C {
  if (typeof ClientClass !== 'function') {
    throw invalidOption('awsClient', 'ClientClass', 'must be an AWS SDK v3 client class, such as SSMClient')
  }
  if (config !== undefined && (config === null || typeof config !== 'object' || Array.isArray(config))) {
    throw invalidOption('awsClient', 'config', 'must be the client config object, or omitted')
  }
  const resolved = withLambdaDefaults((config ?? {}) as Record<string, unknown>)
  const key = configKey(resolved)
  let clients = clientsByClass.get(ClientClass)
  if (clients === undefined) {
    clients = new Map()
    clientsByClass.set(ClientClass, clients)
  }
  let client = clients.get(key) as C | undefined
  if (client === undefined) {
    const started = performance.now()
    client = new ClientClass(...([resolved] as A))
    clients.set(key, client)
    emit('client.created', { name: `aws:${ClientClass.name}`, durationMs: performance.now() - started })
  }
  return client
}
