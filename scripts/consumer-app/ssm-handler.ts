// An SSM-only function: @aws-sdk/client-ssm is installed, the Secrets Manager SDK is NOT (the
// README says to install only the SDK of each service read). Its types must check all the same.
import { ssmParameters } from '@warmstart/params'

const ssm = ssmParameters({ ttl: '1m' })

export async function handler(): Promise<{ greeting: string }> {
  return { greeting: await ssm.get(process.env.GREETING_PARAMETER ?? '/app/greeting') }
}
