export declare const LAMBDA_EXTERNALS: string[]

export interface BundleOptions {
  /** The handler's source file. */
  entry: string
  /** Where the bundle is written, as `<entry name>.mjs`. */
  outdir: string
  /** Imports left for run time. Default LAMBDA_EXTERNALS. */
  external?: string[]
  /** Default true; false keeps variable names, so that the leak guard's deep check can name them. */
  minifyIdentifiers?: boolean
}

export declare function bundleHandler(options: BundleOptions): Promise<{ file: string; bytes: number }>
