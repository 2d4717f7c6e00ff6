import { randomBytes } from 'node:crypto'
import type { Clock } from '@warmstart/core'
import { describeValue } from '@warmstart/core/internal'
import { invalidSeed, labelProblem, parameterNameProblem, quoted } from './seed-rules.js'
import { ServiceError } from './service-error.js'
import type { LocalAwsParameterType, SeedParameter } from './types.js'

export interface ParameterVersion {
  readonly name: string
  readonly version: number
  readonly type: LocalAwsParameterType
  readonly value: string
  /** What a SecureString read without decryption returns: opaque, and unrelated to the value. */
  readonly ciphertext: string
  /** Wall-clock milliseconds. */
  readonly lastModified: number
  readonly labels: Set<string>
}

/** A version found by a reference such as `/app/url`, `/app/url:3` or `/app/url:prod`. */
export interface ResolvedParameter {
  readonly parameter: ParameterVersion
  /** `:3` or `:prod` when the reference carried a selector. */
  readonly selector: string | undefined
}

const TYPES: readonly string[] = ['String', 'StringList', 'SecureString']
const MAX_LABELS_PER_VERSION = 10

/** The parameters of the local SSM, every version of each, with their labels. */
export class ParameterStore {
  readonly #clock: Clock
  readonly #parameters = new Map<string, ParameterVersion[]>()

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** Adds a version (the first creates the parameter); returns its number. */
  put(name: unknown, input: unknown): number {
    if (typeof name !== 'string')
      throw invalidSeed('a parameter name', `must be a string (got ${describeValue(name)})`)
    const nameProblem = parameterNameProblem(name)
    if (nameProblem !== undefined) throw invalidSeed(`parameter name ${quoted(name)}`, nameProblem)
    const seed = readSeed(name, input)
    const versions = this.#parameters.get(name) ?? []
    for (const earlier of versions) for (const label of seed.labels) earlier.labels.delete(label)
    const version: ParameterVersion = {
      name,
      version: versions.length + 1,
      type: seed.type,
      value: seed.value,
      ciphertext: randomBytes(48 + seed.value.length).toString('base64'),
      lastModified: this.#clock.now(),
      labels: new Set(seed.labels),
    }
    versions.push(version)
    this.#parameters.set(name, versions)
    return version.version
  }

  /** Finds the version a reference names, or throws the error SSM answers. */
  resolve(reference: string): ResolvedParameter {
    const [name, selector, extra] = reference.split(':') as [string, string | undefined, string | undefined]
    if (extra !== undefined || selector === '') {
      throw new ServiceError(400, 'ValidationException', `Invalid parameter name or selector: ${reference}`)
    }
    const versions = this.#parameters.get(name)
    // The real ParameterNotFound carries no message.
    if (versions === undefined) throw new ServiceError(400, 'ParameterNotFound')
    if (selector === undefined)
      return { parameter: versions[versions.length - 1] as ParameterVersion, selector }
    const parameter = /^\d+$/.test(selector)
      ? versions.find((candidate) => candidate.version === Number(selector))
      : versions.find((candidate) => candidate.labels.has(selector))
    if (parameter === undefined) {
      throw new ServiceError(
        400,
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`,
      )
    }
    return { parameter, selector: `:${selector}` }
  }

  /** The latest version of each parameter under `path`, by name; only direct children unless `recursive`. */
  underPath(path: string, recursive: boolean): ParameterVersion[] {
    const prefix = path.endsWith('/') ? path : `${path}/`
    const found: ParameterVersion[] = []
    for (const [name, versions] of this.#parameters) {
      if (!name.startsWith(prefix)) continue
      if (!recursive && name.slice(prefix.length).includes('/')) continue
      found.push(versions[versions.length - 1] as ParameterVersion)
    }
    return found.sort((a, b) => (a.name < b.name ? -1 : 1))
  }
}

function readSeed(name: string, input: unknown): Required<SeedParameter> {
  const what = `parameter ${quoted(name)}`
  const seed = (typeof input === 'string' ? { value: input } : input) as Partial<SeedParameter> | null
  if (typeof seed !== 'object' || seed === null || typeof seed.value !== 'string') {
    throw invalidSeed(what, 'needs a string value or { value, type?, labels? }')
  }
  if (seed.value === '') throw invalidSeed(what, 'must have a non-empty value (SSM refuses an empty one)')
  const type = seed.type ?? 'String'
  if (!TYPES.includes(type))
    throw invalidSeed(what, "has a type that is not 'String', 'StringList' or 'SecureString'")
  const labels = seed.labels ?? []
  if (!Array.isArray(labels) || labels.length > MAX_LABELS_PER_VERSION) {
    throw invalidSeed(what, `needs labels as an array of at most ${MAX_LABELS_PER_VERSION} strings`)
  }
  for (const label of labels) {
    const problem = typeof label === 'string' ? labelProblem(label) : 'must be a string'
    if (problem !== undefined) throw invalidSeed(`label ${quoted(String(label))} of ${what}`, problem)
  }
  return { value: seed.value, type, labels }
}
