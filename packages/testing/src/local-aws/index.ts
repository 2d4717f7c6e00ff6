export { startLocalAws } from './start-local-aws.js'
export type {
  CallFilter,
  FaultKind,
  LocalAws,
  LocalAwsClientConfig,
  LocalAwsFault,
  LocalAwsOptions,
  LocalAwsService,
  ParameterType,
  RecordedCall,
  SeedParameter,
} from './types.js'
