import { type MatchHow, SECRET_KINDS, type ValueKind } from './kinds.js'
import type { RequestRecord, RequestValue } from './request-record.js'

/** A stored fragment of a secret counts from this length: shorter pieces of a token occur by chance. */
export const SECRET_FRAGMENT_MIN = 16

/** What a matched value or object is, and whose. */
export interface Match {
  readonly how: MatchHow
  readonly kind: ValueKind
  /** The request value, for the redacted preview; undefined for an object matched by identity. */
  readonly value: string | undefined
  readonly record: RequestRecord
  /** The value belongs to an invocation still in flight: not a leak yet. */
  readonly inFlight: boolean
}

interface Entry {
  readonly value: RequestValue
  readonly record: RequestRecord
  readonly inFlight: boolean
}

interface SecretEntry extends Entry {
  /** The secret without a JWT's header part, which is the same in every token an issuer signs. */
  readonly pieces: string
}

const JWT_HEADER = /eyJ[A-Za-z0-9_-]*\.(?=[A-Za-z0-9_-]+\.)/g

/**
 * Looks strings and objects up against the values of the invocations being checked and of those
 * still in flight. Exact matches are one hash lookup; the substring scan runs only for strings at
 * least as long as the shortest value that may be contained.
 */
export class Matcher {
  private readonly exact = new Map<string, Entry>()
  private readonly contained: Entry[] = []
  private readonly secrets: SecretEntry[] = []
  private readonly objects = new Map<object, Match>()
  /** The keys a large container is asked about with `has()`: each exact value (and its number), and the request objects. */
  readonly probes: [unknown, Match][] = []
  private shortestContained = Number.POSITIVE_INFINITY
  private longestSecret = 0

  constructor(checked: readonly RequestRecord[], inFlight: readonly RequestRecord[]) {
    // In-flight values go first so that a value two requests share counts as in flight.
    for (const record of inFlight) this.addRecord(record, true)
    for (const record of checked) this.addRecord(record, false)
    for (const [value, entry] of this.exact) {
      const match = toMatch('exact', entry)
      this.probes.push([value, match])
      if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) this.probes.push([Number(value), match])
    }
    for (const [object, match] of this.objects) this.probes.push([object, match])
  }

  private addRecord(record: RequestRecord, inFlight: boolean): void {
    if (!inFlight) {
      for (const { object, kind } of record.objects) {
        if (!this.objects.has(object))
          this.objects.set(object, { how: 'identity', kind, value: undefined, record, inFlight })
      }
    }
    for (const value of record.values) {
      if (this.exact.has(value.value)) continue
      const entry = { value, record, inFlight }
      this.exact.set(value.value, entry)
      if (!value.exactOnly) {
        this.contained.push(entry)
        this.shortestContained = Math.min(this.shortestContained, value.value.length)
      }
      if (SECRET_KINDS.has(value.kind) && value.value.length > SECRET_FRAGMENT_MIN) {
        const pieces = value.value.replace(JWT_HEADER, '\u0000')
        this.secrets.push({ ...entry, pieces })
        this.longestSecret = Math.max(this.longestSecret, pieces.length)
      }
    }
  }

  /**
   * Forgets every value and object. After a deep check: whatever still refers to this matcher (V8's
   * feedback for the search's functions can) must not keep request values for the next snapshot to find.
   */
  dispose(): void {
    this.exact.clear()
    this.contained.length = 0
    this.secrets.length = 0
    this.objects.clear()
    this.probes.length = 0
  }

  /** The request objects being looked for, with what each is. */
  identities(): [object, Match][] {
    return [...this.objects]
  }

  /** The request object this is, if any. */
  object(candidate: object): Match | undefined {
    return this.objects.get(candidate)
  }

  /** Whether a string is, contains, or is a piece of a secret of, a request value. */
  string(candidate: string): Match | undefined {
    const exact = this.exact.get(candidate)
    if (exact !== undefined) return toMatch('exact', exact)
    const length = candidate.length
    if (length > this.shortestContained) {
      for (const entry of this.contained) {
        if (candidate.includes(entry.value.value)) return toMatch('substring', entry)
      }
    }
    if (length >= SECRET_FRAGMENT_MIN && length < this.longestSecret) {
      for (const entry of this.secrets) {
        if (entry.pieces.includes(candidate)) return toMatch('substring', entry)
      }
    }
    return undefined
  }
}

function toMatch(how: MatchHow, entry: Entry): Match {
  return {
    how,
    kind: entry.value.kind,
    value: entry.value.value,
    record: entry.record,
    inFlight: entry.inFlight,
  }
}
