const JWT = /^[A-Za-z0-9_-]{8,}\.([A-Za-z0-9_-]{8,})\.[A-Za-z0-9_-]*$/

/** Whether a string has the shape of a JSON Web Token (three base64url parts). */
export function looksLikeJwt(value: string): boolean {
  return value.length < 16_384 && JWT.test(value)
}

/**
 * The payload of a JWT, decoded and NOT verified: the guard only needs to know which subject and
 * email the token carries, to look for them afterwards. Undefined when the payload is not JSON.
 */
export function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
  const payload = JWT.exec(token)?.[1]
  if (payload === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
