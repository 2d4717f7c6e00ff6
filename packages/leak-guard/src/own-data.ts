const getOwnDescriptor = Object.getOwnPropertyDescriptor

/** What ownData gives for an absent key or an accessor: nothing was read. */
export const MISSING = Symbol('missing')

/**
 * An own data property's value, read without running anything: an accessor is never called (the
 * guard runs no user code), so it reads as MISSING, as an absent key does.
 */
export function ownData(object: object, key: string | number): unknown {
  const descriptor = getOwnDescriptor(object, key)
  return descriptor === undefined || !('value' in descriptor) ? MISSING : descriptor.value
}
