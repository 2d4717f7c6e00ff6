import type { ValueKind } from './kinds.js'

/** One value taken from a request, with how it may be matched. */
export interface RequestValue {
  readonly value: string
  readonly kind: ValueKind
  /** Matched only as a whole (numbers, IP addresses): as a substring they would match by chance. */
  readonly exactOnly: boolean
}

/** What the guard looks for after one invocation. */
export interface RequestRecord {
  readonly requestId: string
  readonly values: readonly RequestValue[]
  /** The event and context objects, looked for by identity. */
  readonly objects: readonly { readonly object: object; readonly kind: ValueKind }[]
}
