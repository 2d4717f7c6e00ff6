// The main entry: both providers. Its declarations name both SDKs' client types (the `client`
// option); a function that reads one service imports '@warmstart/params/ssm' or
// '@warmstart/params/secrets-manager' instead, whose declarations need only that service's SDK.
// Both re-export what is shared (./common.js): the same bindings, once.
export * from './secrets-manager.js'
export * from './ssm.js'
