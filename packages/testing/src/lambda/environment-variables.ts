import { randomBytes } from 'node:crypto'
import { basename, dirname, extname } from 'node:path'
import type { SimulationSettings } from './options.js'

/** The function name Lambda would know this function by, unless `env` sets another. */
export const DEFAULT_FUNCTION_NAME = 'simulated-function'
const DEFAULT_REGION = 'us-east-1'

/** A log stream name in Lambda's shape: `2026/01/01/[$LATEST]` and 32 hex digits per environment. */
function logStreamName(now: Date): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/')
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`
}

/**
 * The environment of one execution environment's process: what the test process has, minus its
 * own AWS_* variables (credentials must not leak into the function), plus what Lambda sets, plus
 * the user's `env`, which wins.
 */
export function lambdaEnvironmentVariables(
  settings: SimulationSettings,
  inherited: NodeJS.ProcessEnv = process.env,
  now: Date = new Date(),
): Record<string, string> {
  const base: Record<string, string> = {}
  for (const [name, value] of Object.entries(inherited)) {
    if (value !== undefined && !name.startsWith('AWS_')) base[name] = value
  }
  const functionName = settings.env.AWS_LAMBDA_FUNCTION_NAME ?? DEFAULT_FUNCTION_NAME
  const region = settings.env.AWS_REGION ?? DEFAULT_REGION
  const nodeMajor = process.versions.node.split('.')[0]
  const lambda: Record<string, string> = {
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(settings.memoryMB),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${nodeMajor}.x`,
    AWS_LAMBDA_INITIALIZATION_TYPE: settings.initType,
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(now),
    LAMBDA_TASK_ROOT: dirname(settings.modulePath),
    _HANDLER: `${basename(settings.modulePath, extname(settings.modulePath))}.${settings.exportName}`,
    TZ: ':UTC',
  }
  if (settings.mode === 'managed-instances') {
    lambda.AWS_LAMBDA_MAX_CONCURRENCY = String(settings.concurrencyPerEnvironment)
  }
  return { ...base, ...lambda, ...settings.env }
}
