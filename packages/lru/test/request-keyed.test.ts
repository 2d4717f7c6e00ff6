import { longLivedRoots } from '@warmstart/core/internal'
import { boundedLru } from '@warmstart/lru'
import { describe, expect, it, vi } from 'vitest'

// What boundedLru hands to core's registry, seen at the call: core's `requestKeyed` option (added by
// the leak guard's side) is then checked on the registered root itself, when this core has it.
const calls = vi.hoisted(() => [] as { name: string; options: unknown }[])
vi.mock('@warmstart/core', async (importOriginal) => {
  const real = await importOriginal<typeof import('@warmstart/core')>()
  return {
    ...real,
    registerRoot: ((name, target, inspect, options) => {
      calls.push({ name, options })
      return real.registerRoot(name, target, inspect, options)
    }) as typeof real.registerRoot,
  }
})

describe('requestKeyed', () => {
  it('is passed to registerRoot with the revision, so the leak guard skips keys but not values', () => {
    const tenants = boundedLru<string, { plan: string }>({ max: 100, name: 'tenants', requestKeyed: true })
    const plain = boundedLru<string, string>({ max: 100, name: 'plain' })
    const registered = calls.find((c) => c.name === 'lru:tenants')?.options as Record<string, unknown>
    expect(registered).toMatchObject({ requestKeyed: true, revision: expect.any(Function) })
    expect(calls.find((c) => c.name === 'lru:plain')?.options).not.toHaveProperty('requestKeyed')
    const root = longLivedRoots().find((r) => r.target() === tenants) as
      | { requestKeyed?: boolean }
      | undefined
    expect(root).toBeDefined()
    if (root !== undefined && 'requestKeyed' in root) {
      expect(root.requestKeyed).toBe(true)
      expect(
        (longLivedRoots().find((r) => r.target() === plain) as { requestKeyed?: boolean }).requestKeyed,
      ).toBe(false)
    }
  })
})
