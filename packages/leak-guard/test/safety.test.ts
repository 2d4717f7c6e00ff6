import { registerRoot } from '@warmstart/core'
import { invocationCount } from '@warmstart/core/internal'
import type { LeakGuardMode } from '@warmstart/leak-guard'
import { type LeakFinding, leakGuard, leakGuardMiddleware } from '@warmstart/leak-guard'
import { recordingLogger } from '@warmstart/testing/doubles'
import { afterEach, describe, expect, it } from 'vitest'
import { apiRequest, body } from './corpus/events.js'

const g = globalThis as unknown as Record<string, unknown>
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
  for (const key of Object.keys(g)) if (key.startsWith('s_')) delete g[key]
})

describe("callbacks of the user's never fail the invocation", () => {
  for (const mode of ['warn', 'throw', 'report'] as LeakGuardMode[]) {
    it(`in ${mode} mode: an inspector, a revision and an extractor that throw are reported once, and their root is skipped`, async () => {
      const logger = recordingLogger()
      const { lines } = logger
      const secret = new Error('carries user-secret-0001')
      cleanups.push(
        registerRoot('s:inspect', { kind: 'cache' }, () => {
          throw secret
        }),
        registerRoot(
          's:part-way',
          { kind: 'cache' },
          function* () {
            yield ['fine-key', 'fine-value']
            throw secret
          },
          { revision: () => 1 },
        ),
        registerRoot('s:revision', new Map([['k', 'v']]), undefined, {
          revision: () => {
            throw secret
          },
        }),
      )
      const findings: LeakFinding[] = []
      const guard = leakGuard({
        mode,
        sampleRate: 1,
        logger,
        onFinding: (found) => findings.push(...found),
        extract: [
          () => {
            throw secret
          },
        ],
      })
      for (let invocation = 0; invocation < 2; invocation++) {
        const { event, context } = apiRequest()
        await expect(guard.wrap(() => 'done')(event, context)).resolves.toBe('done')
      }
      expect(findings).toEqual([])
      expect(lines.map((line) => line.message).sort()).toEqual([
        'leak-guard: extract[0] threw (Error); its values are not looked for',
        'leak-guard: s:inspect:inspect threw (Error); the rest of the root is skipped',
        'leak-guard: s:part-way:inspect threw (Error); the rest of the root is skipped',
        'leak-guard: s:revision:revision threw (Error); the root is skipped',
      ])
      expect(lines.every((line) => line.level === 'error' && !line.message.includes('user-secret'))).toBe(
        true,
      )
    })
  }

  it('reads a root whose listing failed part way in full next time, whatever its revision says', async () => {
    const logger = recordingLogger()
    let fail = true
    const entries = new Map<string, unknown>([['a-key', 'a-value']])
    cleanups.push(
      registerRoot(
        's:flaky',
        { kind: 'cache' },
        function* () {
          if (fail) throw new Error('not now')
          yield* entries
        },
        { revision: () => 7 },
      ),
    )
    const findings: LeakFinding[] = []
    const guard = leakGuard({ mode: 'report', logger, onFinding: (found) => findings.push(...found) })
    const first = apiRequest()
    await guard.wrap(() => {
      entries.set('leaked', body(first.event).userId)
    })(first.event, first.context)
    fail = false
    const second = apiRequest()
    await guard.wrap(() => 1)(second.event, second.context)
    expect(findings.map((f) => f.path)).toEqual([])
    const third = apiRequest()
    await guard.wrap(() => {
      entries.set('leaked-too', body(third.event).userId)
    })(third.event, third.context)
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['s:flaky.get("leak…")', third.context.awsRequestId],
    ])
  })

  it('survives an onFinding and a logger that throw, in report and warn mode', async () => {
    const errors: string[] = []
    const error = console.error
    console.error = (message: string) => errors.push(message)
    try {
      const throwing = () => {
        throw new Error('observer down')
      }
      const reporting = leakGuard({
        mode: 'report',
        onFinding: throwing,
        logger: { warn: throwing, error: throwing },
      })
      const warning = leakGuard({ sampleRate: 1, logger: { warn: throwing, error: throwing } })
      for (const guard of [reporting, warning]) {
        const { event, context } = apiRequest()
        await expect(
          guard.wrap(() => {
            g.s_kept = body(event).userId
          })(event, context),
        ).resolves.toBeUndefined()
      }
    } finally {
      console.error = error
    }
    // The logger could not take them: the callback's failure and the warning go to the console, once each.
    expect(errors).toEqual([
      'leak-guard: onFinding threw; these findings may not have reached it',
      expect.stringMatching(/^leak-guard: request data outlived invocation .* \(1 place\)$/),
    ])
  })

  it('in a Middy-shaped chain, a throwing inspector leaves the response alone', async () => {
    const logger = recordingLogger()
    cleanups.push(
      registerRoot('s:middy', { kind: 'cache' }, () => {
        throw new Error('broken')
      }),
    )
    const middleware = leakGuardMiddleware({ mode: 'throw', logger })
    const { event, context } = apiRequest()
    const request = { event, context, response: { statusCode: 200 }, error: undefined }
    await middleware.before?.(request)
    await expect(middleware.after?.(request)).resolves.toBeUndefined()
  })
})

describe('an end without its begin', () => {
  it('checks nothing and counts no invocation', async () => {
    const before = invocationCount()
    expect(await leakGuard().end({ awsRequestId: 'never-begun-1' })).toEqual([])
    expect(invocationCount()).toBe(before)
  })
})

describe('request-keyed roots', () => {
  it('does not report the keys of a root registered as request-keyed, and still reports its values', async () => {
    const tenants = new Map<string, { plan: string; contact?: string }>()
    cleanups.push(registerRoot('s:tenants', tenants, (map) => map.entries(), { requestKeyed: true }))
    const plain = new Map<string, string>()
    cleanups.push(registerRoot('s:plain', plain, (map) => map.entries()))
    const findings: LeakFinding[] = []
    const guard = leakGuard({ mode: 'report', onFinding: (found) => findings.push(...found) })
    const first = apiRequest()
    await guard.wrap(() => {
      tenants.set(body(first.event).tenantId, { plan: 'gold' })
    })(first.event, first.context)
    expect(findings).toEqual([])
    const second = apiRequest()
    await guard.wrap(() => {
      tenants.set(body(second.event).tenantId, { plan: 'gold', contact: body(second.event).email })
      plain.set(body(second.event).tenantId, 'gold')
    })(second.event, second.context)
    expect(findings.map((f) => [f.path, f.kind])).toEqual([
      [expect.stringMatching(/^s:tenants\.get\("tena…"\)\.contact$/), 'email'],
      ['s:plain → key "tena…"', 'tenant id'],
    ])
  })
})
