// A JavaScript user (no types to catch a typo): each misspelt option must fail when the object is
// made, with the closest valid name, and the component the user called named. Also the other
// run-time checks of issue 12. Prints one JSON line per check: { id, ok, message }.
import { leakGuard } from '@warmstart/leak-guard'
import { waitUntil } from '@warmstart/lifecycle'
import { boundedLru } from '@warmstart/lru'
import { ssmParameters } from '@warmstart/params'
import { pgConnection } from '@warmstart/pg'

/** Calls `make`; ok when it throws synchronously with a message matching every pattern. */
function mustThrow(id, make, ...patterns) {
  let message
  try {
    make()
  } catch (error) {
    message = String(error?.message ?? error)
  }
  const ok = message !== undefined && patterns.every((pattern) => pattern.test(message))
  console.log(JSON.stringify({ id, ok, message: message ?? 'did not throw' }))
}

const ssm = ssmParameters()
mustThrow(
  'misspelt:ssmParameters.tll',
  () => ssmParameters({ tll: '5m' }),
  /ssmParameters/,
  /did you mean "ttl"/,
)
mustThrow(
  'misspelt:ssm.ref.transfrom',
  () => ssm.ref('/app/config', { transfrom: 'json' }),
  /did you mean "transform"/,
)
mustThrow(
  'misspelt:pgConnection.validateAfterIdel',
  () => pgConnection({ config: { host: '127.0.0.1' }, validateAfterIdel: '1s' }),
  /pgConnection/,
  /did you mean "validateAfterIdle"/,
)
mustThrow(
  'misspelt:boundedLru.maxByte',
  () => boundedLru({ max: 10, maxByte: '1mb' }),
  /boundedLru/,
  /did you mean "maxBytes"/,
)
mustThrow('misspelt:leakGuard.mod', () => leakGuard({ mod: 'warn' }), /leakGuard/, /did you mean "mode"/)
mustThrow(
  'ttl-message:ssmParameters',
  () => ssmParameters({ ttl: '5 minutes' }),
  /^(?!.*ttlCache).*ssmParameters/s,
  /forever/,
)
mustThrow('waitUntil:not-a-promise', () => waitUntil('not a promise'), /waitUntil/, /promise/i)
