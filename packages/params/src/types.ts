/**
 * A parsed JSON value as the providers hand it out: frozen, deeply, because one cached object is
 * shared by every invocation. Functions are left as they are (JSON holds none).
 */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer U)[]
    ? ReadonlyArray<DeepReadonly<U>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T
