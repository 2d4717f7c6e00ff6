// An AWS SDK client made once at init (the runtime's SDK, left out of the bundle), never called here.
import { SSMClient } from '@aws-sdk/client-ssm'
import { deployed } from '../deployed.mjs'

const ssm = new SSMClient({ region: 'eu-west-1', maxAttempts: 2 })

export const handler = deployed(async (event) => {
  return { statusCode: 200, body: `${typeof ssm.send} ${event.rawPath.length}` }
})
