// A product catalogue cached by SKU: the keys come from the body, but a SKU names no caller.
import { deployed } from '../deployed.mjs'

const catalog = new Map()

export const handler = deployed(async (event) => {
  const { items } = JSON.parse(event.body)
  for (const { sku } of items)
    if (!catalog.has(sku)) catalog.set(sku, { name: `Product ${sku}`, price: 1299 })
  return { statusCode: 200, body: String(catalog.size) }
})
