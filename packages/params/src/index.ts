// The main entry: both providers. A function that reads one service can import
// '@warmstart/params/ssm' or '@warmstart/params/secrets-manager' instead: the same API, one provider.
// Both re-export what is shared (./common.js): the same bindings, once.
export * from './secrets-manager.js'
export * from './ssm.js'
