// '@warmstart/params/ssm-sdk': the SDK path of ssmParameters. The only entry that imports
// @aws-sdk/client-ssm, and with it the adapter, so that a function on the default path bundles neither.
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm'
import { sdkSsmBackend } from './backend/sdk-backend.js'
import type { SsmSdkClient } from './backend/types.js'

export type { SsmSdkClient } from './backend/types.js'

/**
 * Sends `ssmParameters`' requests through a caller's `SSMClient`: its credentials, retries and
 * middleware. `ssmParameters({ client: fromSsmClient(new SSMClient({})) })`. A client of another
 * service is refused here (`ERR_INVALID_ARGUMENT`).
 */
export function fromSsmClient(client: SSMClient): SsmSdkClient {
  return sdkSsmBackend(client, {
    getParameter: GetParameterCommand,
    getParameters: GetParametersCommand,
    getParametersByPath: GetParametersByPathCommand,
  })
}
