/** A message on the payments queue, as the payment service sends it. */
export interface PaymentCaptured {
  paymentId: string
  orderId: number
  amountCents: number
  currency: string
}

/** The message's payment, or why it can never be processed (it will end in the dead-letter queue). */
export function parsePayment(body: string): PaymentCaptured | string {
  let value: Partial<PaymentCaptured>
  try {
    value = JSON.parse(body)
  } catch {
    return 'body is not JSON'
  }
  if (typeof value?.paymentId !== 'string' || value.paymentId === '') return 'paymentId missing'
  if (!Number.isSafeInteger(value.orderId)) return 'orderId must be an integer'
  if (!Number.isSafeInteger(value.amountCents) || (value.amountCents ?? 0) <= 0) {
    return 'amountCents must be a positive integer'
  }
  if (typeof value.currency !== 'string' || !/^[A-Z]{3}$/.test(value.currency)) {
    return 'currency must be an ISO 4217 code'
  }
  return value as PaymentCaptured
}
