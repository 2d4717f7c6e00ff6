/** What a request value is, as a finding names it. */
export type ValueKind =
  | 'event object'
  | 'context object'
  | 'request id'
  | 'authorization header'
  | 'bearer token'
  | 'api key'
  | 'password'
  | 'cookie'
  | 'user id'
  | 'email'
  | 'account id'
  | 'tenant id'
  | 'customer id'
  | 'order id'
  | 'ip address'
  | 'message id'
  | 'receipt handle'
  | 'event id'
  | 'token claim'
  | 'path parameter'
  | 'query parameter'
  | 'custom'

/** Kinds whose pieces are secret too: a stored fragment of one of them is a finding. */
export const SECRET_KINDS: ReadonlySet<ValueKind> = new Set<ValueKind>([
  'authorization header',
  'bearer token',
  'api key',
  'password',
  'cookie',
  'receipt handle',
])

/** How a finding matched: the request's own object, a value equal to a request value, or one containing it. */
export type MatchHow = 'identity' | 'exact' | 'substring'
