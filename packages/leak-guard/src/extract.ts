import { decodeJwtPayload, looksLikeJwt } from './jwt.js'
import type { ValueKind } from './kinds.js'
import type { RequestRecord, RequestValue } from './request-record.js'
import { toRequestValue, type ValueRule } from './value-filter.js'

/** A value a user's extractor adds: a string, or a string with the kind a finding should name. */
export type ExtractedValue = string | { readonly value: string; readonly kind?: ValueKind }

/** A user's extractor: more values of one request to look for. */
export type Extractor = (event: unknown, context: unknown) => Iterable<ExtractedValue> | undefined

/** Keys (lower case, letters and digits only) whose values identify a person, an account or a request. */
const KEY_KINDS: Record<string, ValueKind> = {
  userid: 'user id',
  username: 'user id',
  cognitousername: 'user id',
  sub: 'user id',
  principalid: 'user id',
  uid: 'user id',
  cognitoidentityid: 'user id',
  email: 'email',
  emailaddress: 'email',
  useremail: 'email',
  accountid: 'account id',
  tenantid: 'tenant id',
  tenant: 'tenant id',
  orgid: 'tenant id',
  organizationid: 'tenant id',
  organisationid: 'tenant id',
  customerid: 'customer id',
  orderid: 'order id',
  messageid: 'message id',
  receipthandle: 'receipt handle',
  requestid: 'request id',
  awsrequestid: 'request id',
  extendedrequestid: 'request id',
  jti: 'request id',
  token: 'bearer token',
  accesstoken: 'bearer token',
  idtoken: 'bearer token',
  refreshtoken: 'bearer token',
  apikey: 'api key',
  password: 'password',
  sourceip: 'ip address',
}

/**
 * Registered claims that are the same for every caller of an API (the issuer, the audience, the
 * client application, the times and the token's type), and the authorizer's fields that describe the
 * call rather than the caller. Every other claim of a token or an authorizer (`sub`, `email`,
 * `custom:tenant`, `cognito:username`, a Lambda authorizer's context) is a request value. Groups and
 * roles are left out too: a group name (`admins`) is shared by many callers and names none of them.
 * Compared in lower case.
 */
const SHARED_CLAIMS = new Set([
  'iss',
  'aud',
  'exp',
  'iat',
  'nbf',
  'auth_time',
  'token_use',
  'scope',
  'scp',
  'scopes',
  'client_id',
  'azp',
  'version',
  'ver',
  'typ',
  'alg',
  'kid',
  'amr',
  'acr',
  'email_verified',
  'phone_number_verified',
  'cognito:groups',
  'cognito:roles',
  'cognito:preferred_role',
  'groups',
  'roles',
  'integrationlatency',
])

const EMAIL = /^[^\s@"'<>()[\]]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/
const MAX_NODES = 5_000
const MAX_DEPTH = 10
const MAX_JSON = 1_048_576

/** `userId`, `user_id`, `USER-ID` and Cognito's `custom:user_id` all become `userid`. */
function normalizeKey(key: string): string {
  const unprefixed = key.startsWith('custom:') ? key.slice(7) : key
  return unprefixed.toLowerCase().replace(/[^a-z0-9]/g, '')
}

/** Collects one request's values while the event is read. */
class Collector {
  readonly values = new Map<string, RequestValue>()
  nodes = 0

  constructor(private readonly rule: ValueRule) {}

  add(raw: unknown, kind: ValueKind): void {
    if (typeof raw === 'number' && Number.isSafeInteger(raw)) raw = String(raw)
    if (typeof raw !== 'string') return
    const value = toRequestValue(raw, kind, this.rule)
    if (value !== undefined && !this.values.has(value.value)) this.values.set(value.value, value)
  }

  authorization(header: unknown): void {
    if (typeof header !== 'string') return
    this.add(header, 'authorization header')
    const scheme = /^(\w+)\s+(\S+)\s*$/.exec(header)
    if (scheme === null) {
      this.token(header)
      return
    }
    const [, name, credentials] = scheme as unknown as [string, string, string]
    if (name.toLowerCase() === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      this.add(credentials, 'authorization header')
      if (colon > 0) {
        this.add(decoded.slice(0, colon), 'user id')
        this.add(decoded.slice(colon + 1), 'password')
      }
    } else {
      this.token(credentials)
    }
  }

  token(token: string): void {
    this.add(token, 'bearer token')
    if (!looksLikeJwt(token)) return
    const [, payload, signature] = token.split('.') as [string, string, string]
    // The payload and the signature are the parts that differ between users: stored on their own they are still the token.
    this.add(payload, 'bearer token')
    this.add(signature, 'bearer token')
    const claims = decodeJwtPayload(token)
    if (claims !== undefined) this.claims(claims, 0)
  }

  cookies(header: unknown): void {
    if (typeof header !== 'string') return
    this.add(header, 'cookie')
    for (const pair of header.split(';')) {
      const equals = pair.indexOf('=')
      this.add(equals >= 0 ? pair.slice(equals + 1) : pair, 'cookie')
    }
  }

  /**
   * Claims of a token or an authorizer: every claim but the ones in SHARED_CLAIMS is the caller's
   * (see there), named by its kind when its key says one (`sub`: a user id) and `token claim` else.
   */
  claims(claims: unknown, depth: number): void {
    if (typeof claims !== 'object' || claims === null || depth > 3) return
    for (const [key, value] of Object.entries(claims)) {
      if (SHARED_CLAIMS.has(key.toLowerCase())) continue
      if (typeof value === 'object' && value !== null) {
        this.claims(value, depth + 1)
        continue
      }
      const kind = KEY_KINDS[normalizeKey(key)]
      if (typeof value === 'string' && EMAIL.test(value)) this.add(value, 'email')
      else this.add(value, kind === undefined || kind === 'ip address' ? 'token claim' : kind)
    }
  }

  /**
   * Path parameters and query-string values (API Gateway v1 and v2, ALB): the caller chose them. An
   * ALB passes query values as they were sent, percent-encoded: the decoded value is looked for too.
   */
  parameters(parameters: unknown, kind: 'path parameter' | 'query parameter'): void {
    if (typeof parameters !== 'object' || parameters === null) return
    for (const raw of Object.values(parameters)) {
      for (const value of Array.isArray(raw) ? raw : [raw]) {
        if (typeof value !== 'string') continue
        this.add(value, kind)
        if (value.includes('%') || value.includes('+')) {
          try {
            this.add(decodeURIComponent(value.replaceAll('+', ' ')), kind)
          } catch {
            // Not percent-encoding after all (a lone "%"): the value as sent is looked for.
          }
        }
      }
    }
  }

  headers(headers: unknown): void {
    if (typeof headers !== 'object' || headers === null) return
    for (const [name, raw] of Object.entries(headers)) {
      for (const value of Array.isArray(raw) ? raw : [raw]) {
        switch (name.toLowerCase()) {
          case 'authorization':
          case 'proxy-authorization':
            this.authorization(value)
            break
          case 'cookie':
            this.cookies(value)
            break
          case 'x-api-key':
            this.add(value, 'api key')
            break
          case 'x-forwarded-for':
            if (typeof value === 'string') for (const ip of value.split(',')) this.add(ip, 'ip address')
            break
        }
      }
    }
  }

  /** API Gateway's requestContext: the request ids, the authorizer's claims and the caller's identity, nothing about the API itself. */
  requestContext(requestContext: unknown): void {
    if (typeof requestContext !== 'object' || requestContext === null) return
    const rc = requestContext as Record<string, unknown>
    this.add(rc.requestId, 'request id')
    this.add(rc.extendedRequestId, 'request id')
    this.claims(rc.authorizer, 0)
    const identity = rc.identity as Record<string, unknown> | undefined
    if (typeof identity === 'object' && identity !== null) {
      this.add(identity.sourceIp, 'ip address')
      this.add(identity.cognitoIdentityId, 'user id')
      this.add(identity.user, 'user id')
      this.add(identity.userArn, 'user id')
      this.add(identity.caller, 'user id')
      this.add(identity.apiKey, 'api key')
    }
    this.add((rc.http as Record<string, unknown> | undefined)?.sourceIp, 'ip address')
  }

  body(body: string, base64: boolean): void {
    if (body.length > MAX_JSON) return
    const text = base64 ? Buffer.from(body, 'base64').toString('utf8') : body
    const first = text.trimStart()[0]
    if (first !== '{' && first !== '[') return
    try {
      this.walk(JSON.parse(text), 1)
    } catch {
      // Not JSON after all: a body that is not JSON carries no keys to read.
    }
  }

  /** Any part of an event: identifying keys, emails and tokens wherever they are, and JSON bodies. */
  walk(node: unknown, depth: number): void {
    if (typeof node !== 'object' || node === null || depth > MAX_DEPTH || ++this.nodes > MAX_NODES) return
    if (Array.isArray(node)) {
      for (const item of node) this.walk(item, depth + 1)
      return
    }
    const record = node as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const value = record[key]
      const normalized = normalizeKey(key)
      if (normalized === 'headers' || normalized === 'multivalueheaders') this.headers(value)
      else if (normalized === 'cookies' && Array.isArray(value))
        for (const cookie of value) this.cookies(cookie)
      else if (normalized === 'requestcontext') this.requestContext(value)
      else if (normalized === 'pathparameters') this.parameters(value, 'path parameter')
      else if (normalized === 'querystringparameters' || normalized === 'multivaluequerystringparameters')
        this.parameters(value, 'query parameter')
      else if ((normalized === 'body' || normalized === 'message') && typeof value === 'string')
        this.body(value, record.isBase64Encoded === true)
      else if (KEY_KINDS[normalized] !== undefined && typeof value !== 'object')
        this.add(value, KEY_KINDS[normalized])
      else if (typeof value === 'string') this.loose(value)
      else this.walk(value, depth + 1)
    }
  }

  /** A string under a key that says nothing: an email or a token is still recognisable by its shape. */
  loose(value: string): void {
    if (EMAIL.test(value)) this.add(value, 'email')
    else if (looksLikeJwt(value)) this.token(value)
  }
}

/** Everything the guard looks for after one invocation. */
export function extractRequest(
  event: unknown,
  context: unknown,
  requestId: string,
  rule: ValueRule,
  extractors: readonly Extractor[],
  failed: (index: number, error: unknown) => void = () => {},
): RequestRecord {
  const collector = new Collector(rule)
  const objects: { object: object; kind: ValueKind }[] = []
  if (typeof event === 'object' && event !== null) objects.push({ object: event, kind: 'event object' })
  if (typeof context === 'object' && context !== null) {
    objects.push({ object: context, kind: 'context object' })
    const ctx = context as { awsRequestId?: unknown; identity?: { cognitoIdentityId?: unknown } }
    collector.add(ctx.awsRequestId, 'request id')
    collector.add(ctx.identity?.cognitoIdentityId, 'user id')
  }
  collector.walk(event, 0)
  // EventBridge: the event's own id says which event it was.
  const bus = event as { id?: unknown; 'detail-type'?: unknown } | null
  if (typeof bus === 'object' && bus !== null && bus['detail-type'] !== undefined)
    collector.add(bus.id, 'event id')
  for (const [index, extractor] of extractors.entries()) {
    try {
      for (const extra of extractor(event, context) ?? []) {
        if (typeof extra === 'string') collector.add(extra, 'custom')
        else if (typeof extra === 'object' && extra !== null)
          collector.add(extra.value, extra.kind ?? 'custom')
      }
    } catch (error) {
      // The user's code: it must not fail the invocation. What it gave before it threw is kept.
      failed(index, error)
    }
  }
  return { requestId, values: [...collector.values.values()], objects }
}
