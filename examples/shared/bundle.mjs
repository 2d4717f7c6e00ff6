// Bundles a handler the way it is deployed to Lambda: one minified ESM file for Node 20+, with the
// AWS SDK v3 clients left out (the Node.js runtimes ship them). The tests and the demo run these
// bundles under simulateLambda, so what is tested is what would be uploaded.
import { mkdir } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import { build } from 'esbuild'

/** Left out of every bundle: the runtime's SDK clients, and pg's optional native binding (never installed). */
export const LAMBDA_EXTERNALS = ['@aws-sdk/client-*', 'pg-native']

// pg and other CommonJS dependencies call require() for Node built-ins; an ESM bundle has no
// require of its own, so it gets one.
const REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);"

/**
 * @param {{ entry: string, outdir: string, external?: string[], minifyIdentifiers?: boolean }} options
 * @returns {Promise<{ file: string, bytes: number }>}
 */
export async function bundleHandler({
  entry,
  outdir,
  external = LAMBDA_EXTERNALS,
  minifyIdentifiers = true,
}) {
  await mkdir(outdir, { recursive: true })
  const file = join(outdir, `${basename(entry, extname(entry))}.mjs`)
  const result = await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external,
    banner: { js: REQUIRE_SHIM },
    metafile: true,
    logLevel: 'silent',
  })
  const output = Object.values(result.metafile.outputs)[0]
  return { file, bytes: output?.bytes ?? 0 }
}
