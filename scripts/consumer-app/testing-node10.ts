// A CommonJS TypeScript project on the old resolution (moduleResolution node10, no
// esModuleInterop): the kit's '.' entry must type-check there too.
import { fakeClock, startLocalAws, startPostgres, type TestPostgres } from '@warmstart/testing'

export async function check(): Promise<TestPostgres['config'] | undefined> {
  const clock = fakeClock()
  clock.advance('1s')
  const aws = await startLocalAws({ parameters: { '/a': 'b' } })
  await aws.stop()
  return typeof startPostgres === 'function' ? undefined : undefined
}
