// The order being handled, kept in a module variable "for the logger".
import { deployed } from '../deployed.mjs'

let currentOrderId

export const handler = deployed(async (event) => {
  currentOrderId = event.pathParameters.orderId
  return { statusCode: 200, body: `order ${currentOrderId.length}` }
})
