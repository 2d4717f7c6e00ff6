export type { BackendFilter } from './backends.js'
export {
  type StartPostgresOptions,
  startPostgres,
  type TestPostgres,
  type TestPostgresConfig,
} from './start-postgres.js'
