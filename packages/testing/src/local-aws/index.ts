export { startLocalAws } from './start-local-aws.js'
export type {
  LocalAws,
  LocalAwsCall,
  LocalAwsCallFilter,
  LocalAwsClientConfig,
  LocalAwsFault,
  LocalAwsFaultKind,
  LocalAwsOptions,
  LocalAwsParameterType,
  LocalAwsService,
  SeedParameter,
} from './types.js'
