import { isAbsolute } from 'node:path'
import { type Duration, describeValue, invalidOption, parseDuration } from '@warmstart/core'

/** How simulateLambda runs a handler. Every option is checked when the simulation is made. */
export interface SimulateLambdaOptions {
  /** `'/abs/path/module.mjs#handler'`: the module each environment imports once, and its export. */
  handler: string
  /** Extra environment variables; they override the ones Lambda sets. */
  env?: Record<string, string>
  /** 128..10240, default 512: AWS_LAMBDA_FUNCTION_MEMORY_SIZE and context.memoryLimitInMB. */
  memoryMB?: number
  /** Default '30s': an invocation running longer is killed with its environment. */
  timeout?: Duration
  /** Default 10: environments started before invocations queue. */
  maxEnvironments?: number
  /** 'classic' (default): one invocation per environment at a time, frozen in between.
   * 'managed-instances': one process serves up to maxConcurrency invocations at once, never frozen. */
  mode?: 'classic' | 'managed-instances'
  /** managed-instances only, default 4: AWS_LAMBDA_MAX_CONCURRENCY. */
  maxConcurrency?: number
  /** Default true: SIGSTOP an environment between invocations (classic mode). */
  freeze?: boolean
  /** AWS_LAMBDA_INITIALIZATION_TYPE, default 'on-demand' (classic mode). */
  initType?: 'on-demand' | 'provisioned-concurrency' | 'snap-start'
  /** Node options for each environment's process (`--enable-source-maps`, ...). */
  execArgv?: string[]
  /** 'runner' (default): warmstart's own model of the Node.js runtime. 'ric': the real runtime
   * interface client (`aws-lambda-ric`, Node >= 22) against a local Runtime API. The default is
   * the environment variable WARMSTART_LAMBDA_RUNTIME when it is set, else 'runner'. */
  runtime?: 'runner' | 'ric'
}

/** The options with defaults applied, durations parsed and the handler split. */
export interface SimulationSettings {
  readonly modulePath: string
  readonly exportName: string
  readonly env: Readonly<Record<string, string>>
  readonly memoryMB: number
  readonly timeoutMs: number
  readonly maxEnvironments: number
  readonly mode: 'classic' | 'managed-instances'
  /** Invocations one environment serves at once: 1 in classic mode. */
  readonly concurrencyPerEnvironment: number
  readonly freeze: boolean
  readonly initType: string
  readonly execArgv: readonly string[]
  readonly runtime: 'runner' | 'ric'
}

const COMPONENT = 'simulateLambda'
const HANDLER = /^(.+)#([A-Za-z_$][\w$]*)$/
const INIT_TYPES = ['on-demand', 'provisioned-concurrency', 'snap-start']
const MODES = ['classic', 'managed-instances']
const RUNTIMES = ['runner', 'ric']

function integerIn(value: unknown, option: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
  throw invalidOption(COMPONENT, option, `must be an integer ${range} (got ${describeValue(value)})`)
}

function oneOf<T extends string>(value: unknown, option: string, allowed: readonly string[], fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value === 'string' && allowed.includes(value)) return value as T
  throw invalidOption(
    COMPONENT,
    option,
    `must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${describeValue(value)})`,
  )
}

function handlerParts(value: unknown): { modulePath: string; exportName: string } {
  const match = typeof value === 'string' ? HANDLER.exec(value) : null
  if (match === null || !isAbsolute(match[1]!)) {
    throw invalidOption(
      COMPONENT,
      'handler',
      `must be '/absolute/path/to/module.mjs#exportName' (got ${describeValue(value)})`,
    )
  }
  return { modulePath: match[1]!, exportName: match[2]! }
}

function stringRecord(value: unknown): Record<string, string> {
  if (value === undefined) return {}
  const valid =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  if (!valid) throw invalidOption(COMPONENT, 'env', 'must be an object of string values')
  return { ...(value as Record<string, string>) }
}

function stringList(value: unknown): string[] {
  if (value === undefined) return []
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [...value]
  throw invalidOption(COMPONENT, 'execArgv', 'must be an array of strings')
}

/** Checks every option and applies the defaults; throws invalidOption on the first bad one. */
export function resolveOptions(options: SimulateLambdaOptions): SimulationSettings {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption(COMPONENT, 'options', 'must be an object with at least { handler }')
  }
  const mode = oneOf<'classic' | 'managed-instances'>(options.mode, 'mode', MODES, 'classic')
  const managed = mode === 'managed-instances'
  if (!managed && options.maxConcurrency !== undefined) {
    throw invalidOption(COMPONENT, 'maxConcurrency', "applies to mode 'managed-instances' only")
  }
  if (managed && options.initType !== undefined) {
    throw invalidOption(COMPONENT, 'initType', "applies to mode 'classic' only")
  }
  if (options.freeze !== undefined && typeof options.freeze !== 'boolean') {
    throw invalidOption(COMPONENT, 'freeze', `must be a boolean (got ${describeValue(options.freeze)})`)
  }
  const timeoutMs = parseDuration(options.timeout ?? '30s', COMPONENT, 'timeout')
  if (timeoutMs < 1) throw invalidOption(COMPONENT, 'timeout', 'must be at least 1ms')
  return {
    ...handlerParts(options.handler),
    env: stringRecord(options.env),
    memoryMB: integerIn(options.memoryMB, 'memoryMB', 128, 10_240, 512),
    timeoutMs,
    maxEnvironments: integerIn(options.maxEnvironments, 'maxEnvironments', 1, Number.MAX_SAFE_INTEGER, 10),
    mode,
    concurrencyPerEnvironment: managed
      ? integerIn(options.maxConcurrency, 'maxConcurrency', 1, Number.MAX_SAFE_INTEGER, 4)
      : 1,
    // Lambda Managed Instances never freeze an environment between invocations.
    freeze: !managed && options.freeze !== false,
    initType: managed
      ? 'lambda-managed-instances'
      : oneOf(options.initType, 'initType', INIT_TYPES, 'on-demand'),
    execArgv: stringList(options.execArgv),
    // WARMSTART_LAMBDA_RUNTIME=ric runs a whole suite under the real client without editing it.
    runtime: oneOf<'runner' | 'ric'>(
      options.runtime ?? process.env.WARMSTART_LAMBDA_RUNTIME,
      options.runtime === undefined && process.env.WARMSTART_LAMBDA_RUNTIME !== undefined
        ? 'WARMSTART_LAMBDA_RUNTIME'
        : 'runtime',
      RUNTIMES,
      'runner',
    ),
  }
}
