import { validationError } from './service-error.js'

/** A request body as JSON gave it. */
export type RequestBody = Record<string, unknown>

/**
 * Readers of request members that answer a malformed member as the services do: a
 * ValidationException naming the member in its wire spelling (`name`, `maxResults`).
 */
export function requiredString(body: RequestBody, field: string, member: string): string {
  const value = body[field]
  if (value === undefined || value === null)
    throw validationError(`Value null at '${member}' failed to satisfy constraint: Member must not be null`)
  if (typeof value !== 'string' || value.length === 0) {
    throw validationError(
      `Value at '${member}' failed to satisfy constraint: Member must be a non-empty string`,
    )
  }
  return value
}

export function optionalString(body: RequestBody, field: string, member: string): string | undefined {
  return body[field] === undefined || body[field] === null ? undefined : requiredString(body, field, member)
}

export function optionalBoolean(body: RequestBody, field: string, member: string): boolean {
  const value = body[field]
  if (value === undefined || value === null) return false
  if (typeof value !== 'boolean')
    throw validationError(`Value at '${member}' failed to satisfy constraint: Member must be a boolean`)
  return value
}

/** A list of 1 to `max` non-empty strings. */
export function stringList(body: RequestBody, field: string, member: string, max: number): string[] {
  const value = body[field]
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.some((item) => typeof item !== 'string' || item === '')
  ) {
    throw validationError(
      `Value at '${member}' failed to satisfy constraint: Member must be a list of 1 to ${max} names`,
    )
  }
  if (value.length > max) {
    throw validationError(
      `Value '[${value.join(', ')}]' at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    )
  }
  return value as string[]
}

/** An integer in [min, max], or `fallback` when absent. */
export function integerInRange(
  body: RequestBody,
  field: string,
  member: string,
  range: { min: number; max: number; fallback: number },
): number {
  const value = body[field]
  if (value === undefined || value === null) return range.fallback
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw validationError(`Value at '${member}' failed to satisfy constraint: Member must be an integer`)
  }
  if (value < range.min) {
    throw validationError(
      `Value '${value}' at '${member}' failed to satisfy constraint: Member must have value greater than or equal to ${range.min}`,
    )
  }
  if (value > range.max) {
    throw validationError(
      `Value '${value}' at '${member}' failed to satisfy constraint: Member must have value less than or equal to ${range.max}`,
    )
  }
  return value
}

/** The names a request asks for, read leniently so that even a malformed request is recorded. */
export function namesIn(body: RequestBody | undefined, field: string): string[] {
  const value = body?.[field]
  if (typeof value === 'string') return [value]
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []
}
