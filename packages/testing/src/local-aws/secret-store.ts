import { randomBytes, randomUUID } from 'node:crypto'
import type { Clock } from '@warmstart/core'
import { describeValue } from '@warmstart/core/internal'
import { invalidSeed, quoted, secretNameProblem } from './seed-rules.js'
import { ServiceError } from './service-error.js'

export interface SecretVersion {
  readonly id: string
  readonly value: string | Uint8Array
  /** AWSCURRENT, AWSPREVIOUS, or none for a deprecated version (still readable by its id). */
  readonly stages: Set<string>
  /** Wall-clock milliseconds. */
  readonly created: number
}

export interface Secret {
  readonly name: string
  /** Ends in '-' and six random characters, as real secret ARNs do. */
  readonly arn: string
  readonly versions: SecretVersion[]
}

const CURRENT = 'AWSCURRENT'
const PREVIOUS = 'AWSPREVIOUS'
const ARN_SUFFIX_LENGTH = 7

/** The message of the real ResourceNotFoundException for an unknown secret. */
export const SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret."

/** The secrets of the local Secrets Manager, their versions and staging labels. */
export class SecretStore {
  readonly #clock: Clock
  readonly #arnPrefix: string
  readonly #secrets = new Map<string, Secret>()

  constructor(clock: Clock, arnPrefix: string) {
    this.#clock = clock
    this.#arnPrefix = arnPrefix
  }

  /** Creates the secret, or adds a new AWSCURRENT version to it as PutSecretValue does. */
  put(name: unknown, value: unknown): void {
    if (typeof name !== 'string')
      throw invalidSeed('a secret name', `must be a string (got ${describeValue(name)})`)
    const problem = secretNameProblem(name)
    if (problem !== undefined) throw invalidSeed(`secret name ${quoted(name)}`, problem)
    const existing = this.#secrets.get(name)
    if (existing !== undefined) {
      this.#addVersion(existing, value)
      return
    }
    const suffix = randomBytes(6)
      .toString('base64url')
      .slice(0, ARN_SUFFIX_LENGTH - 1)
    const secret: Secret = { name, arn: `${this.#arnPrefix}${name}-${suffix}`, versions: [] }
    this.#addVersion(secret, value)
    this.#secrets.set(name, secret)
  }

  /** A new AWSCURRENT version; the current one becomes AWSPREVIOUS and the previous one loses its stage. */
  rotate(name: string, value: unknown): void {
    const secret = this.#secrets.get(name)
    if (secret === undefined)
      throw invalidSeed(`secret ${quoted(String(name))}`, 'does not exist: putSecret() it first')
    this.#addVersion(secret, value)
  }

  /** By name, full ARN, or ARN without its random suffix, as the real SecretId accepts. */
  find(secretId: string): Secret | undefined {
    if (!secretId.startsWith('arn:')) return this.#secrets.get(secretId)
    for (const secret of this.#secrets.values()) {
      if (secret.arn === secretId || secret.arn.slice(0, -ARN_SUFFIX_LENGTH) === secretId) return secret
    }
    return undefined
  }

  /** The version by id and/or stage (default AWSCURRENT), or the error Secrets Manager answers. */
  version(secret: Secret, versionId?: string, stage?: string): SecretVersion {
    if (versionId !== undefined) {
      const found = secret.versions.find((candidate) => candidate.id === versionId)
      if (found === undefined || (stage !== undefined && !found.stages.has(stage))) {
        throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`)
      }
      return found
    }
    const wanted = stage ?? CURRENT
    const found = secret.versions.find((candidate) => candidate.stages.has(wanted))
    if (found === undefined)
      throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${wanted}`)
    return found
  }

  #addVersion(secret: Secret, value: unknown): void {
    const what = `secret ${quoted(secret.name)}`
    if (typeof value !== 'string' && !(value instanceof Uint8Array))
      throw invalidSeed(what, 'needs a string or a Uint8Array value')
    if (value.length === 0) throw invalidSeed(what, 'must have a non-empty value')
    for (const version of secret.versions) {
      version.stages.delete(PREVIOUS)
      if (version.stages.delete(CURRENT)) version.stages.add(PREVIOUS)
    }
    secret.versions.push({
      id: randomUUID(),
      // A copy: a test that reuses its buffer must not change the stored secret.
      value: typeof value === 'string' ? value : Uint8Array.from(value),
      stages: new Set([CURRENT]),
      created: this.#clock.now(),
    })
  }
}

export function notFound(message: string = SECRET_NOT_FOUND): ServiceError {
  return new ServiceError(400, 'ResourceNotFoundException', message)
}
