import { onEvent, registerRoot, type WarmstartEvent } from '@warmstart/core'
import { type LeakFinding, leakGuard } from '@warmstart/leak-guard'
import { afterEach, describe, expect, it } from 'vitest'
import { apiRequest, body } from './corpus/events.js'

// What the fast check reads again of a large container (more than 256 entries) once it has read it.

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

function checking(options: Parameters<typeof leakGuard>[0] = {}) {
  const findings: LeakFinding[] = []
  const nodes: number[] = []
  cleanups.push(
    onEvent((event: WarmstartEvent) => {
      if (event.type === 'leak.check') nodes.push(event.nodes)
    }),
  )
  const guard = leakGuard({ mode: 'report', onFinding: (found) => findings.push(...found), ...options })
  const invoke = async (handler: (request: ReturnType<typeof apiRequest>) => void) => {
    const request = apiRequest()
    await guard.wrap(() => handler(request))(request.event, request.context)
    return request
  }
  return { findings, nodes, invoke }
}

function catalog(size: number): Map<string, { name: string }> {
  return new Map(Array.from({ length: size }, (_, i) => [`product-${i}`, { name: `Widget ${i}` }]))
}

describe('reading a large container again', () => {
  it('reads only new entries and values replaced under an existing key when its size changes', async () => {
    const products = catalog(300)
    cleanups.push(registerRoot('t:catalog', products))
    const { findings, nodes, invoke } = checking()
    await invoke(() => {}) // the first reading: every entry
    const request = await invoke(({ event }) => {
      products.set('product-5', { name: `Widget of ${body(event).userId}` })
      products.set('product-new', { name: body(event).email })
    })
    expect(findings.map((f) => [f.path, f.kind, f.invocation])).toEqual([
      ['t:catalog.get("prod…").name', 'user id', request.context.awsRequestId],
      ['t:catalog.get("prod…").name', 'email', request.context.awsRequestId],
    ])
    // The 299 values read clean before are not read again: the Map and the two new values are.
    expect(nodes[1]).toBeLessThan((nodes[0] as number) - 250)

    // Written inside a value already read clean, while the Map grows: the deep check's to find.
    const later = await invoke(({ event }) => {
      ;(products.get('product-7') as { name: string }).name = body(event).userId
      products.set('product-newer', { name: 'Widget' })
    })
    expect(findings.filter((f) => f.invocation === later.context.awsRequestId)).toEqual([])
  })

  it("reads a registered root's listing the same way once it lists more than 256 entries", async () => {
    const hidden = catalog(300)
    cleanups.push(registerRoot('t:listed', { kind: 'cache' }, () => hidden.entries()))
    const { findings, nodes, invoke } = checking()
    // The first listing says it is large, the second reads it as such, the third skips what that one read clean.
    for (let reading = 0; reading < 3; reading++) await invoke(() => {})
    expect(nodes[1]).toBe(nodes[0])
    expect(nodes[2]).toBeLessThan((nodes[1] as number) - 250)
    const request = await invoke(({ event }) => {
      hidden.set('product-9', { name: body(event).userId })
    })
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['t:listed.get("prod…").name', request.context.awsRequestId],
    ])
  })

  it('does not take a reading cut short by the budget as complete: the next check reads on', async () => {
    const products = catalog(300)
    cleanups.push(registerRoot('t:budgeted', products))
    const { findings, invoke } = checking({ budget: { nodes: 200 } })
    const events: WarmstartEvent[] = []
    cleanups.push(onEvent((event) => events.push(event)))
    await invoke(() => {})
    expect(events).toContainEqual(expect.objectContaining({ type: 'leak.check', exhausted: true }))
    // Same size, a value replaced past where the first reading stopped: read because that reading was not complete.
    const request = await invoke(({ event }) => {
      products.set('product-299', { name: body(event).userId })
    })
    expect(findings.map((f) => [f.path, f.invocation])).toEqual([
      ['t:budgeted.get("prod…").name', request.context.awsRequestId],
    ])
  })
})
