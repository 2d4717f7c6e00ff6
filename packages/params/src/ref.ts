/**
 * A value for a middleware spec: where it comes from and how to read it, with its type. Made by
 * `ssm.ref(...)` and `secrets.ref(...)`; `paramsMiddleware` resolves a spec of them.
 */
export interface ParamRef<T> {
  readonly source: 'ssm' | 'secretsmanager'
  /** The parameter name or secret id. */
  readonly name: string
  /** Reads the value through its provider's cache. */
  resolve(): Promise<T>
  /** Resolves when the provider's refreshes started ahead of expiry have finished. */
  settle(): Promise<void>
}

/** The type of the value a ref resolves to. */
export type RefValue<R> = R extends ParamRef<infer T> ? T : never
