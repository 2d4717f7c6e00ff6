// The main entry: both providers. Its declarations name both SDKs' client types (the `client`
// option); a function that reads one service imports '@warmstart/params/ssm' or
// '@warmstart/params/secrets-manager' instead, whose declarations need only that service's SDK.
export * from './common.js'
export {
  type SecretGet,
  type SecretGetOptions,
  type SecretRef,
  type SecretsManager,
  type SecretsManagerOptions,
  secretsManager,
} from './secrets-manager.js'
export {
  type SsmGet,
  type SsmGetByPathOptions,
  type SsmGetOptions,
  type SsmParameters,
  type SsmParametersOptions,
  type SsmRef,
  ssmParameters,
} from './ssm-parameters.js'
