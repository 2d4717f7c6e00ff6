// '@warmstart/params/ssm': SSM Parameter Store and everything shared, so that a bundle of a
// function that reads only parameters carries no Secrets Manager provider.
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
