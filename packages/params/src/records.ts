/**
 * Sets `record[key]` as an own, enumerable property, whatever the key: an assignment to
 * `'__proto__'` would set the record's prototype instead (or, for a string, do nothing), and
 * `'__proto__'` is a valid SSM parameter name and secret id. What `JSON.parse` does with it.
 */
export function setOwn(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true })
  } else {
    record[key] = value
  }
}

/**
 * The entries of an answer's list that are objects. Anything else (a `null` in `Parameters`, in
 * `Errors`) names no key, so it is left out: each key it should have answered is then a malformed
 * answer of its own, and the entries beside it are still served.
 */
export function objectsOf<T extends object>(list: readonly T[] | undefined): T[] {
  return list === undefined ? [] : list.filter((entry) => typeof entry === 'object' && entry !== null)
}
