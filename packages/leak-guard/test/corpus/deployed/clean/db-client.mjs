// A database client reused across invocations; the caller's id only goes into a query's parameters.
import { deployed } from '../deployed.mjs'

class Database {
  config = { host: 'db.internal.example.com', port: 5432, user: 'app_user', database: 'orders' }
  queries = 0
  query(sql, params) {
    this.queries++
    return sql.length + params.length
  }
}

const db = new Database()

export const handler = deployed(async (event) => {
  const rows = db.query('select * from orders where user_id = $1', [
    event.requestContext.authorizer.jwt.claims.sub,
  ])
  return { statusCode: 200, body: String(rows) }
})
