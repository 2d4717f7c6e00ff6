// '@warmstart/params/ssm-sdk': the SDK path of ssmParameters. The only entry that imports
// @aws-sdk/client-ssm, so that a function on the default path bundles no SDK.
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm'
import type { SdkClient, SsmSdkClient } from './backend/types.js'

export type { SsmSdkClient } from './backend/types.js'

/**
 * Sends `ssmParameters`' requests through a caller's `SSMClient`: its credentials, retries and
 * middleware. `ssmParameters({ client: fromSsmClient(new SSMClient({})) })`. The provider checks
 * the client when it is made.
 */
export function fromSsmClient(client: SSMClient): SsmSdkClient {
  return {
    service: 'SSM',
    client: client as unknown as SdkClient,
    commands: {
      getParameter: GetParameterCommand,
      getParameters: GetParametersCommand,
      getParametersByPath: GetParametersByPathCommand,
    },
  }
}
