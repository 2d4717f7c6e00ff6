// '@warmstart/params/secrets-manager-sdk': the SDK path of secretsManager. The only entry that
// imports @aws-sdk/client-secrets-manager, so that a function on the default path bundles no SDK.
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import type { SdkClient, SecretsManagerSdkClient } from './backend/types.js'

export type { SecretsManagerSdkClient } from './backend/types.js'

/**
 * Sends `secretsManager`'s requests through a caller's `SecretsManagerClient`: its credentials,
 * retries and middleware. `secretsManager({ client: fromSecretsManagerClient(new SecretsManagerClient({})) })`.
 * The provider checks the client when it is made.
 */
export function fromSecretsManagerClient(client: SecretsManagerClient): SecretsManagerSdkClient {
  return {
    service: 'Secrets Manager',
    client: client as unknown as SdkClient,
    commands: { getSecretValue: GetSecretValueCommand, batchGetSecretValue: BatchGetSecretValueCommand },
  }
}
