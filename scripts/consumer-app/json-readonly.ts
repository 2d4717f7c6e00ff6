// JSON values are frozen at run time (deeply): their type must say so, or a write compiles and
// throws (or is ignored) only when it runs.
import { ssmParameters } from '@warmstart/params'

const ssm = ssmParameters()

export async function change(): Promise<void> {
  const config = await ssm.get<{ features: { on: boolean } }>('/app/config', { transform: 'json' })
  // @ts-expect-error a nested field of a frozen JSON value is read-only
  config.features.on = false
}
