// What the orders API needs around it: its tables and products, its SSM config and its secret.
// Shared by the example's test and the demo.
import { readFile } from 'node:fs/promises'

export const CONFIG_PARAMETER = '/orders-api/config'
export const DB_SECRET_ID = 'orders-api/db'

export const ordersConfig = {
  schema: 'shop',
  maxLinesPerOrder: 10,
  pageSize: 20,
  features: { acceptOrders: true },
}

export const products = [
  { sku: 'kettle-01', name: 'Kettle', priceCents: 3_499, stock: 1_000 },
  { sku: 'teapot-02', name: 'Teapot', priceCents: 2_250, stock: 1_000 },
  { sku: 'mug-03', name: 'Mug', priceCents: 899, stock: 1_000 },
  { sku: 'last-one-04', name: 'Limited edition cup', priceCents: 5_000, stock: 1 },
]

/** The secret in the format RDS writes for a managed password. */
export function dbSecret(config, password = config.password) {
  return JSON.stringify({
    engine: 'postgres',
    username: config.user,
    password,
    host: config.host,
    port: config.port,
    dbname: config.database,
  })
}

/** Creates the tables, lets the function's role use them, and stocks the products. */
export async function createOrdersSchema(postgres) {
  const { admin, config } = postgres
  await admin.query(await readFile(new URL('./schema.sql', import.meta.url), 'utf8'))
  const role = `"${config.user}"`
  await admin.query(`GRANT USAGE ON SCHEMA shop TO ${role}`)
  await admin.query(`GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA shop TO ${role}`)
  for (const p of products) {
    await admin.query('INSERT INTO shop.products (sku, name, price_cents, stock) VALUES ($1, $2, $3, $4)', [
      p.sku,
      p.name,
      p.priceCents,
      p.stock,
    ])
  }
}

/** The function's environment: where its config and secret live, and the local AWS endpoint. */
export function ordersEnvironment(aws, overrides = {}) {
  return {
    ...aws.env,
    CONFIG_PARAMETER,
    DB_SECRET_ID,
    ...overrides,
  }
}
