import { setOwn } from './records.js'

/**
 * Reads every key at once (one batch for a provider that batches) and answers them by key. The keys
 * that do not exist are reported together, in one not-found error, once every read has settled:
 * a caller learns all that is missing from one failure. Any other failure is the answer as it is.
 */
export async function readMany<T>(
  keys: readonly string[],
  read: (key: string) => Promise<unknown>,
  notFound: {
    missingOf: (error: unknown) => readonly string[] | undefined
    error: (missing: string[]) => Error
  },
): Promise<Record<string, T>> {
  const outcomes = await Promise.allSettled(keys.map(read))
  const values: Record<string, T> = {}
  const missing: string[] = []
  for (const [index, outcome] of outcomes.entries()) {
    const key = keys[index] as string
    if (outcome.status === 'fulfilled') {
      setOwn(values, key, outcome.value)
      continue
    }
    const absent = notFound.missingOf(outcome.reason)
    if (absent === undefined) throw outcome.reason
    missing.push(...absent)
  }
  if (missing.length > 0) throw notFound.error(missing)
  return values
}
