import { WarmstartError } from '@warmstart/core'

/**
 * The naming rules the real services enforce, checked when a test seeds or puts a value, so that a
 * test cannot pass locally with a name AWS would refuse. Each returns the problem, or undefined.
 */

const PARAMETER_SEGMENT = /^[a-zA-Z0-9_.-]+$/
const RESERVED_PREFIX = /^(aws|ssm)/i
const LABEL = /^[a-zA-Z0-9_.-]{1,100}$/
const SECRET_NAME = /^[a-zA-Z0-9/_+=.@-]{1,512}$/

export function parameterNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 1011) return 'must be 1 to 1011 characters long'
  const hierarchical = name.includes('/')
  if (hierarchical && !name.startsWith('/')) {
    return "must start with '/' when it forms a hierarchy (like '/app/db/url'), or be a plain name without '/'"
  }
  const segments = hierarchical ? name.slice(1).split('/') : [name]
  if (segments.length > 15) return 'must have at most 15 levels of hierarchy'
  if (!segments.every((segment) => PARAMETER_SEGMENT.test(segment))) {
    return "must hold only letters, digits, '.', '-' and '_' between single '/' separators, and must not end with '/'"
  }
  if (RESERVED_PREFIX.test(segments[0] as string))
    return "must not begin with 'aws' or 'ssm' (reserved by AWS)"
  return undefined
}

export function labelProblem(label: string): string | undefined {
  if (!LABEL.test(label)) return "must be 1 to 100 letters, digits, '.', '-' or '_'"
  if (/^\d/.test(label)) return 'must not begin with a digit (it would read as a version number)'
  if (RESERVED_PREFIX.test(label)) return "must not begin with 'aws' or 'ssm' (reserved by AWS)"
  return undefined
}

export function secretNameProblem(name: string): string | undefined {
  return SECRET_NAME.test(name) ? undefined : "must be 1 to 512 letters, digits or any of '/_+=.@-'"
}

/** The error a test gets for seed input the real service would refuse. Never names a value. */
export function invalidSeed(what: string, problem: string): WarmstartError {
  return new WarmstartError('ERR_INVALID_SEED', `startLocalAws: ${what} ${problem}`)
}

/** A name for an error message: names are not secret, but an absurdly long one is cut. */
export function quoted(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 77)}...` : name)
}
