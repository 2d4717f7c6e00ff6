import { onEvent, type WarmstartEvent } from '@warmstart/core'
import { type LeakFinding, LeakFoundError, leakGuard } from '@warmstart/leak-guard'
import { deepCheck } from '@warmstart/leak-guard/deep'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanCases } from './corpus/clean.js'
import { apiRequest, UNTIMED } from './corpus/events.js'
import { leakyCases, resetLeaks } from './corpus/leaky.js'

function reportingGuard(options: { remember?: number } = {}) {
  const findings: LeakFinding[] = []
  const guard = leakGuard({
    mode: 'report',
    onFinding: (found) => findings.push(...found),
    ...UNTIMED,
    ...options,
  })
  return { guard, findings }
}

afterEach(() => resetLeaks())

describe('the corpus, in process', () => {
  for (const leaky of leakyCases.filter((c) => c.check === 'fast')) {
    it(`fast check finds: ${leaky.name}`, async () => {
      const { guard, findings } = reportingGuard()
      const { event, context } = apiRequest()
      await guard.wrap(leaky.handler)(event, context)
      expect(findings.length).toBeGreaterThan(0)
      for (const finding of findings) {
        expect(finding.invocation).toBe(context.awsRequestId)
        expect(finding.check).toBe('fast')
      }
      expect(findings.map((f) => f.path)).toEqual(expect.arrayContaining([expect.stringMatching(leaky.path)]))
      expect(findings.some((f) => f.kind === leaky.kind)).toBe(true)
    })
  }

  it('deep check finds every module-scope and closure leak, each with its path and invocation', async () => {
    const deepCases = leakyCases.filter((c) => c.check === 'deep')
    const { guard, findings } = reportingGuard({ remember: deepCases.length })
    const invocations = new Map<string, string>()
    for (const leaky of deepCases) {
      const { event, context } = apiRequest()
      await guard.wrap(leaky.handler)(event, context)
      invocations.set(leaky.name, context.awsRequestId)
    }
    expect(findings).toEqual([])
    await guard.deepCheck(deepCheck)
    for (const leaky of deepCases) {
      const own = findings.filter((f) => f.invocation === invocations.get(leaky.name))
      expect(
        own.map((f) => f.path),
        leaky.name,
      ).toEqual(expect.arrayContaining([expect.stringMatching(leaky.path)]))
      if (leaky.kind !== 'any')
        expect(
          own.some((f) => f.kind === leaky.kind),
          leaky.name,
        ).toBe(true)
    }
    for (const finding of findings) {
      expect(finding.check).toBe('deep')
      expect(finding.path, 'no finding outside the corpus').toMatch(/corpus\/leaky\.ts|^globalThis\.corpus/)
    }
  })

  it("a deep check does not report another guard's memory of its own requests", async () => {
    const other = reportingGuard({ remember: 4 })
    const { guard, findings } = reportingGuard({ remember: 4 })
    const clean = cleanCases[0]!
    // Both see requests from the same source IP: the other guard remembers it, as it should.
    const seenByOther = apiRequest()
    await other.guard.wrap(clean.handler)(seenByOther.event, seenByOther.context)
    const seen = apiRequest()
    await guard.wrap(clean.handler)(seen.event, seen.context)
    await new Promise((resolve) => setImmediate(resolve))
    ;(globalThis as { gc: () => void }).gc()
    await guard.deepCheck(deepCheck)
    expect(findings.map((f) => `${f.path} ${f.kind} ${f.match}`)).toEqual([])
    expect(await other.guard.deepCheck(deepCheck)).toEqual([])
  })

  it('no clean handler is flagged, by the fast or the deep check, across warm invocations', async () => {
    const { guard, findings } = reportingGuard({ remember: cleanCases.length * 2 })
    for (const clean of cleanCases) {
      for (let warm = 0; warm < 2; warm++) {
        const { event, context } = apiRequest()
        await guard.wrap(clean.handler)(event, context)
        expect(findings, clean.name).toEqual([])
      }
    }
    // A new task (WeakRefs keep their targets to the end of the one that made them), then a collection:
    // the events and contexts of these invocations are gone, and only their values are looked for.
    await new Promise((resolve) => setImmediate(resolve))
    ;(globalThis as { gc: () => void }).gc()
    await guard.deepCheck(deepCheck)
    expect(findings.map((f) => `${f.path} ${f.kind} ${f.match}`)).toEqual([])
  })
  it('in throw mode with deep: true, fails the next invocation before its handler runs, and forgets it', async () => {
    const leaky = leakyCases.find((c) => c.check === 'deep')
    const guard = leakGuard({ mode: 'throw', deep: deepCheck, ...UNTIMED })
    const first = apiRequest()
    await guard.wrap(leaky!.handler)(first.event, first.context)
    const next = apiRequest()
    let ran = false
    const failed = await guard
      .wrap(() => {
        ran = true
      })(next.event, next.context)
      .catch((error: unknown) => error)
    expect(failed).toBeInstanceOf(LeakFoundError)
    expect((failed as LeakFoundError).findings[0]?.invocation).toBe(first.context.awsRequestId)
    expect(ran).toBe(false)
    const checks: WarmstartEvent[] = []
    const stop = onEvent((event) => checks.push(event))
    expect(await guard.end(next.context)).toEqual([])
    stop()
    expect(checks).toEqual([])
  })
})
