// An SSM-only function: @aws-sdk/client-ssm is installed, the Secrets Manager SDK is NOT (the
// README says to install only the SDK of each service read). Its types must check all the same.
// One provider on the default path, one through the SDK entry with the installed SDK's client.
import { SSMClient } from '@aws-sdk/client-ssm'
import { ssmParameters } from '@warmstart/params'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'

const ssm = ssmParameters({ ttl: '1m' })
const viaSdk = ssmParameters({ client: fromSsmClient(new SSMClient({ maxAttempts: 1 })), ttl: '1m' })

export async function handler(): Promise<{ greeting: string; viaSdk: string }> {
  const name = process.env.GREETING_PARAMETER ?? '/app/greeting'
  return { greeting: await ssm.get(name), viaSdk: await viaSdk.get(name) }
}
