import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

describe('the byte budget is judged by the memory the cache holds', () => {
  it('keeps the heap within maxBytes for entries of a few tens of bytes: the per-entry overhead counts', () => {
    // A child process, so that the heap is measured after a real collection (--expose-gc). It imports
    // the built package: `pnpm --filter @warmstart/lru build` first.
    const fixture = fileURLToPath(new URL('fixtures/tiny-entries-memory.mjs', import.meta.url))
    const output = execFileSync(process.execPath, ['--expose-gc', fixture], { encoding: 'utf8' })
    const { grownBytes, maxBytes, entries, evictions } = JSON.parse(output) as {
      grownBytes: number
      maxBytes: number
      entries: number
      evictions: number
    }
    expect(evictions).toBeGreaterThan(entries) // the budget was reached, many times over
    // Slack for what is not per entry (the cache object, lru-cache's index arrays growing in
    // steps) and for the collector: 10% of the budget. Without the overhead counted it was 3.9×.
    expect(grownBytes).toBeLessThanOrEqual(maxBytes * 1.1)
  })
})
