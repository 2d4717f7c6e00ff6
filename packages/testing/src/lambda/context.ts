/** The context object a Lambda handler receives, as the Node.js runtime builds it. */
export interface SimulatedContext {
  readonly awsRequestId: string
  readonly functionName: string
  readonly functionVersion: string
  readonly invokedFunctionArn: string
  /** A string, as in the Node.js runtime. */
  readonly memoryLimitInMB: string
  readonly logGroupName: string
  readonly logStreamName: string
  callbackWaitsForEmptyEventLoop: boolean
  getRemainingTimeInMillis(): number
}

/** The account id in the ARNs of simulated functions. */
export const SIMULATED_ACCOUNT_ID = '123456789012'

/** Builds an invocation's context from the environment variables Lambda set for the process. */
export function lambdaContext(env: NodeJS.ProcessEnv, requestId: string, deadline: number): SimulatedContext {
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME ?? ''
  return {
    awsRequestId: requestId,
    functionName,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${env.AWS_REGION ?? ''}:${SIMULATED_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '',
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  }
}
