import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { type BundleOptions, bundleHandler } from './bundle.mjs'

/** examples/.tmp: inside the workspace, so the bundle finds the SDK clients it leaves out in node_modules. */
const TMP = fileURLToPath(new URL('../.tmp/', import.meta.url))

export interface TestBundle {
  /** `'/abs/path/handler.mjs#handler'` for simulateLambda. */
  readonly handler: string
  readonly file: string
  remove(): Promise<void>
}

/** Bundles a handler as it is deployed, into a fresh directory of its own. */
export async function bundleForTest(
  entry: URL,
  options: Omit<BundleOptions, 'entry' | 'outdir'> & { exportName?: string } = {},
): Promise<TestBundle> {
  await mkdir(TMP, { recursive: true })
  const outdir = await mkdtemp(TMP)
  const { exportName = 'handler', ...bundle } = options
  const { file } = await bundleHandler({ ...bundle, entry: fileURLToPath(entry), outdir })
  return {
    handler: `${file}#${exportName}`,
    file,
    remove: () => rm(outdir, { recursive: true, force: true }),
  }
}
