// '@warmstart/params/ssm': SSM Parameter Store and everything shared; its declarations do not
// name @aws-sdk/client-secrets-manager.
export * from './common.js'
export {
  type SsmGet,
  type SsmGetByPathOptions,
  type SsmGetOptions,
  type SsmParameters,
  type SsmParametersOptions,
  type SsmRef,
  ssmParameters,
} from './ssm-parameters.js'
