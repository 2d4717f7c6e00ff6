import type { LocalAws, TestPostgres, TestPostgresConfig } from '@warmstart/testing'
import type { OrdersConfig } from './config.js'

export declare const CONFIG_PARAMETER: string
export declare const DB_SECRET_ID: string
export declare const ordersConfig: OrdersConfig
export declare const products: readonly { sku: string; name: string; priceCents: number; stock: number }[]
export declare function dbSecret(config: TestPostgresConfig, password?: string): string
export declare function createOrdersSchema(postgres: TestPostgres): Promise<void>
export declare function ordersEnvironment(
  aws: LocalAws,
  overrides?: Record<string, string>,
): Record<string, string>
