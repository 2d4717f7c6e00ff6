import { optionalString, type RequestBody, requiredString, stringList } from './request-fields.js'
import {
  notFound,
  SECRET_NOT_FOUND,
  type Secret,
  type SecretStore,
  type SecretVersion,
} from './secret-store.js'
import type { ServiceApi } from './service-api.js'
import { ServiceError } from './service-error.js'

const MAX_SECRET_IDS = 20

/** GetSecretValue and BatchGetSecretValue of Secrets Manager, over the store. */
export function secretsManagerApi(store: SecretStore): ServiceApi {
  const getSecretValue = (body: RequestBody) => {
    const secretId = requiredString(body, 'SecretId', 'secretId')
    const versionId = optionalString(body, 'VersionId', 'versionId')
    const stage = optionalString(body, 'VersionStage', 'versionStage')
    const secret = store.find(secretId)
    if (secret === undefined) throw notFound()
    return entry(secret, store.version(secret, versionId, stage))
  }

  // Ids that are not found are reported in Errors; the request itself succeeds.
  const batchGetSecretValue = (body: RequestBody) => {
    if (body.Filters !== undefined) {
      throw new ServiceError(
        400,
        'InvalidRequestException',
        'The local endpoint supports SecretIdList, not Filters',
      )
    }
    const SecretValues: unknown[] = []
    const Errors: unknown[] = []
    for (const secretId of stringList(body, 'SecretIdList', 'secretIdList', MAX_SECRET_IDS)) {
      const secret = store.find(secretId)
      if (secret === undefined) {
        Errors.push({ SecretId: secretId, ErrorCode: 'ResourceNotFoundException', Message: SECRET_NOT_FOUND })
      } else {
        SecretValues.push(entry(secret, store.version(secret)))
      }
    }
    return { SecretValues, Errors }
  }

  return {
    service: 'secretsmanager',
    targetPrefix: 'secretsmanager',
    messageKey: 'Message',
    internalErrorType: 'InternalServiceError',
    operations: new Map([
      ['GetSecretValue', { namesField: 'SecretId', run: getSecretValue }],
      ['BatchGetSecretValue', { namesField: 'SecretIdList', run: batchGetSecretValue }],
    ]),
  }
}

// A binary secret travels base64-encoded in JSON; the SDK hands it to the caller as a Uint8Array.
function entry(secret: Secret, version: SecretVersion) {
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.id,
    ...(typeof version.value === 'string'
      ? { SecretString: version.value }
      : { SecretBinary: Buffer.from(version.value).toString('base64') }),
    VersionStages: [...version.stages],
    CreatedDate: version.created / 1000,
  }
}
