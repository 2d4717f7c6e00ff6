import type { Client } from 'pg'
import { escapeIdentifier } from 'pg'
import type { OrdersConfig } from './config.js'

export interface OrderLine {
  sku: string
  quantity: number
}

export interface Order {
  id: string
  totalCents: number
  createdAt: string
  lines: (OrderLine & { priceCents: number })[]
}

export type CreateOutcome =
  | { created: true; order: Order }
  | { created: false; reason: 'out-of-stock' | 'unknown-sku'; sku: string }

/** The schema comes from config: quoted as an identifier, never pasted into SQL as is. */
function tables(config: OrdersConfig) {
  const schema = escapeIdentifier(config.schema)
  return {
    products: `${schema}.products`,
    orders: `${schema}.orders`,
    lines: `${schema}.order_lines`,
  }
}

/** The caller's most recent orders, with their lines. */
export async function listOrders(db: Client, config: OrdersConfig, customerId: string): Promise<Order[]> {
  const t = tables(config)
  const { rows } = await db.query<Order>(
    `SELECT o.id::text AS id, o.total_cents AS "totalCents", o.created_at AS "createdAt",
            json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity, 'priceCents', l.price_cents)
                     ORDER BY l.sku) AS lines
       FROM ${t.orders} o JOIN ${t.lines} l ON l.order_id = o.id
      WHERE o.customer_id = $1
      GROUP BY o.id
      ORDER BY o.id DESC
      LIMIT $2`,
    [customerId, config.pageSize],
  )
  return rows
}

/**
 * Takes the stock and writes the order in one transaction: either every line is reserved and the
 * order exists, or nothing changed. If anything throws half-way, pgMiddleware rolls the transaction
 * back before the connection serves another invocation.
 */
export async function createOrder(
  db: Client,
  config: OrdersConfig,
  customerId: string,
  lines: readonly OrderLine[],
): Promise<CreateOutcome> {
  const t = tables(config)
  // Rows are locked in one order (by sku), so two concurrent orders cannot deadlock each other.
  const sorted = [...lines].sort((a, b) => a.sku.localeCompare(b.sku))
  await db.query('BEGIN')
  const priced: Order['lines'] = []
  for (const line of sorted) {
    const { rows } = await db.query<{ price_cents: number }>(
      `UPDATE ${t.products} SET stock = stock - $2 WHERE sku = $1 AND stock >= $2 RETURNING price_cents`,
      [line.sku, line.quantity],
    )
    if (rows.length === 0) {
      await db.query('ROLLBACK')
      const known = await db.query(`SELECT 1 FROM ${t.products} WHERE sku = $1`, [line.sku])
      return { created: false, reason: known.rowCount === 0 ? 'unknown-sku' : 'out-of-stock', sku: line.sku }
    }
    priced.push({ ...line, priceCents: rows[0]!.price_cents })
  }
  const total = priced.reduce((sum, line) => sum + line.priceCents * line.quantity, 0)
  const { rows } = await db.query<{ id: string; created_at: Date }>(
    `INSERT INTO ${t.orders} (customer_id, total_cents) VALUES ($1, $2) RETURNING id::text AS id, created_at`,
    [customerId, total],
  )
  const order = rows[0]!
  await db.query(
    `INSERT INTO ${t.lines} (order_id, sku, quantity, price_cents)
     SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[])`,
    [order.id, priced.map((l) => l.sku), priced.map((l) => l.quantity), priced.map((l) => l.priceCents)],
  )
  await db.query('COMMIT')
  return {
    created: true,
    order: { id: order.id, totalCents: total, createdAt: order.created_at.toISOString(), lines: priced },
  }
}
