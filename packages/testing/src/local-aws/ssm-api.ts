import type { ParameterStore, ParameterVersion, ResolvedParameter } from './parameter-store.js'
import {
  integerInRange,
  optionalBoolean,
  optionalString,
  type RequestBody,
  requiredString,
  stringList,
} from './request-fields.js'
import type { ServiceApi } from './service-api.js'
import { ServiceError } from './service-error.js'

const MAX_NAMES = 10
const PAGE = { min: 1, max: 10, fallback: 10 }

/** GetParameter, GetParameters and GetParametersByPath of SSM Parameter Store, over the store. */
export function ssmApi(store: ParameterStore, arnPrefix: string): ServiceApi {
  const wire = (found: ResolvedParameter, withDecryption: boolean) => {
    const { parameter, selector } = found
    return {
      Name: parameter.name,
      Type: parameter.type,
      Value: parameter.type === 'SecureString' && !withDecryption ? parameter.ciphertext : parameter.value,
      Version: parameter.version,
      ...(selector === undefined ? {} : { Selector: selector }),
      LastModifiedDate: parameter.lastModified / 1000,
      ARN: `${arnPrefix}parameter${parameter.name.startsWith('/') ? '' : '/'}${parameter.name}`,
      DataType: 'text',
    }
  }

  const getParameter = (body: RequestBody) => {
    const name = requiredString(body, 'Name', 'name')
    return { Parameter: wire(store.resolve(name), optionalBoolean(body, 'WithDecryption', 'withDecryption')) }
  }

  // Names that are missing, or whose version or label is, are listed in InvalidParameters, not raised.
  const getParameters = (body: RequestBody) => {
    const names = stringList(body, 'Names', 'names', MAX_NAMES)
    const withDecryption = optionalBoolean(body, 'WithDecryption', 'withDecryption')
    const Parameters: unknown[] = []
    const InvalidParameters: string[] = []
    for (const name of names) {
      try {
        Parameters.push(wire(store.resolve(name), withDecryption))
      } catch (error) {
        if (!(error instanceof ServiceError) || error.type === 'ValidationException') throw error
        InvalidParameters.push(name)
      }
    }
    return { Parameters, InvalidParameters }
  }

  const getParametersByPath = (body: RequestBody) => {
    const path = requiredString(body, 'Path', 'path')
    if (!path.startsWith('/')) {
      throw new ServiceError(
        400,
        'ValidationException',
        `The parameter path must begin with a forward slash "/": ${path}`,
      )
    }
    if (body.ParameterFilters !== undefined) {
      throw new ServiceError(
        400,
        'ValidationException',
        'ParameterFilters are not supported by the local endpoint',
      )
    }
    const recursive = optionalBoolean(body, 'Recursive', 'recursive')
    const withDecryption = optionalBoolean(body, 'WithDecryption', 'withDecryption')
    const maxResults = integerInRange(body, 'MaxResults', 'maxResults', PAGE)
    const token = optionalString(body, 'NextToken', 'nextToken')
    const all = store.underPath(path, recursive)
    const start = token === undefined ? 0 : startAfter(all, token)
    const page = all.slice(start, start + maxResults)
    const last = page[page.length - 1]
    return {
      Parameters: page.map((parameter) => wire({ parameter, selector: undefined }, withDecryption)),
      ...(last !== undefined && start + page.length < all.length
        ? { NextToken: encodeToken(last.name) }
        : {}),
    }
  }

  return {
    service: 'ssm',
    targetPrefix: 'AmazonSSM',
    messageKey: 'message',
    internalErrorType: 'InternalServerError',
    operations: new Map([
      ['GetParameter', { namesField: 'Name', run: getParameter }],
      ['GetParameters', { namesField: 'Names', run: getParameters }],
      ['GetParametersByPath', { namesField: 'Path', run: getParametersByPath }],
    ]),
  }
}

// A page token names the last parameter served, so that paging stays right when parameters are added.
function encodeToken(lastName: string): string {
  return Buffer.from(JSON.stringify({ after: lastName })).toString('base64url')
}

function startAfter(sorted: readonly ParameterVersion[], token: string): number {
  let after: unknown
  try {
    after = (JSON.parse(Buffer.from(token, 'base64url').toString()) as { after?: unknown }).after
  } catch {
    after = undefined
  }
  if (typeof after !== 'string')
    throw new ServiceError(400, 'InvalidNextToken', "The specified token isn't valid.")
  const index = sorted.findIndex((parameter) => parameter.name > after)
  return index === -1 ? sorted.length : index
}
