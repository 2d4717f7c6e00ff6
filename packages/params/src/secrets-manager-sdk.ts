// '@warmstart/params/secrets-manager-sdk': the SDK path of secretsManager. The only entry that
// imports @aws-sdk/client-secrets-manager, and with it the adapter, so that a function on the
// default path bundles neither.
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import { sdkSecretsBackend } from './backend/sdk-backend.js'
import type { SecretsManagerSdkClient } from './backend/types.js'

export type { SecretsManagerSdkClient } from './backend/types.js'

/**
 * Sends `secretsManager`'s requests through a caller's `SecretsManagerClient`: its credentials,
 * retries and middleware. `secretsManager({ client: fromSecretsManagerClient(new SecretsManagerClient({})) })`.
 * A client of another service is refused here (`ERR_INVALID_ARGUMENT`).
 */
export function fromSecretsManagerClient(client: SecretsManagerClient): SecretsManagerSdkClient {
  return sdkSecretsBackend(client, {
    getSecretValue: GetSecretValueCommand,
    batchGetSecretValue: BatchGetSecretValueCommand,
  })
}
