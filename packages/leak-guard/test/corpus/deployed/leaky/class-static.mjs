// A request context as class statics.
import { deployed } from '../deployed.mjs'

// biome-ignore lint/complexity/noStaticOnlyClass: a class static is one of the ways to leak
class RequestContext {
  static user
  static tenant
}

export const handler = deployed(async (event) => {
  RequestContext.user = event.requestContext.authorizer.jwt.claims.email
  return { statusCode: 200, body: String(RequestContext.user.length) }
})
