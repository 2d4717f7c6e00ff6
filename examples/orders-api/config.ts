import type { Duration } from '@warmstart/core'

/** What the function reads from its environment (set by the deployment). */
export const settings = {
  /** The SSM parameter that holds the JSON config below. */
  configParameter: process.env.CONFIG_PARAMETER ?? '/orders-api/config',
  /** The Secrets Manager secret with the database credentials (the RDS secret format). */
  dbSecretId: process.env.DB_SECRET_ID ?? 'orders-api/db',
  /** How long the config is cached per environment: a flag flipped in SSM is live within this. */
  configTtl: (process.env.CONFIG_TTL ?? '1m') as Duration,
  /** Share of invocations the leak guard checks: 0.01 in production is one in a hundred. */
  leakGuardSampleRate: Number(process.env.LEAK_GUARD_SAMPLE_RATE ?? '0.01'),
}

/** The JSON config in SSM: what operations can change without a deploy. */
export interface OrdersConfig {
  /** The schema the tables live in. */
  schema: string
  /** Largest number of lines one order may have. */
  maxLinesPerOrder: number
  /** Orders returned by GET /orders. */
  pageSize: number
  features: {
    /** The kill switch: false answers POST /orders with 503. */
    acceptOrders: boolean
  }
}
