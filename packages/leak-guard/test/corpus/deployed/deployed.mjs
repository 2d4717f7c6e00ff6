// How every handler of the deployed corpus is wrapped, as a user deploys it: Middy with the leak
// guard as its middleware, in report mode, every invocation checked by the production check and,
// once it has ended, by the deep check (a test configuration: production passes no deep check).
// Each finding is one log line, which the test reads from the invocation's own logs.
import middy from '@middy/core'
import { leakGuardMiddleware } from '@warmstart/leak-guard'
import { deepCheck } from '@warmstart/leak-guard/deep'

const FINDING_PREFIX = 'leak-finding '

export function deployed(handler) {
  return middy(handler).use(
    leakGuardMiddleware({
      mode: 'report',
      deep: deepCheck,
      // A budget no loaded test machine reaches: what is found must not depend on the load.
      budget: { time: '10s' },
      onFinding: (findings) => {
        for (const finding of findings) console.log(FINDING_PREFIX + JSON.stringify(finding))
      },
    }),
  )
}
