import { type Duration, invalidOption, type Logger, parseDuration } from '@warmstart/core'
import type { Extractor } from './extract.js'
import type { LeakFinding } from './finding.js'

export type LeakGuardMode = 'warn' | 'throw' | 'report'

export interface LeakGuardOptions {
  /** `warn` (default): log through `logger`; `throw`: fail the invocation with LeakFoundError (tests); `report`: call `onFinding`. */
  mode?: LeakGuardMode
  /** Receives each check's findings in `report` mode (and in the other modes too, when given). */
  onFinding?: (findings: readonly LeakFinding[]) => void
  /** Share of invocations checked, 0 to 1 (default 1). For production: 0.01 checks one in a hundred. */
  sampleRate?: number
  /** Also take a heap snapshot after each checked invocation, to find module and closure variables (tests and CI). */
  deep?: boolean
  /** More values of a request to look for, taken from the event and context. */
  extract?: Extractor | readonly Extractor[]
  /** Request values (exactly, or by pattern) never looked for, and paths (prefix, or pattern) never reported. */
  allow?: { values?: readonly (string | RegExp)[]; paths?: readonly (string | RegExp)[] }
  /** Shortest request value that is looked for (default 6, at least 4): shorter values match by chance. */
  minLength?: number
  /** Bounds of the fast check: objects visited (default 50,000) and time (default '20ms'). */
  budget?: { nodes?: number; time?: Duration }
  /** Finished invocations that `deepCheck()` looks for (default 1: the last one). */
  remember?: number
  logger?: Logger
  /** The source of randomness for `sampleRate` (default Math.random). */
  random?: () => number
  /**
   * Functions whose module scope and closures the fast check reads (through node:inspector, no heap
   * snapshot): by default the handler Lambda runs (`_HANDLER` under `LAMBDA_TASK_ROOT`).
   * Give the Middy handler's inner function here if the exported one is not in the module to watch;
   * `false` reads no module scope (globals and registered roots only).
   */
  watch?: ((...args: never[]) => unknown) | readonly ((...args: never[]) => unknown)[] | false
}

export interface ResolvedOptions {
  readonly mode: LeakGuardMode
  readonly onFinding: ((findings: readonly LeakFinding[]) => void) | undefined
  readonly sampleRate: number
  readonly deep: boolean
  readonly extractors: readonly Extractor[]
  readonly allowValues: readonly (string | RegExp)[]
  readonly allowPaths: readonly (string | RegExp)[]
  readonly minLength: number
  readonly maxNodes: number
  readonly maxMs: number
  readonly remember: number
  readonly logger: Logger
  readonly random: () => number
  readonly watch: readonly ((...args: never[]) => unknown)[] | false
}

const COMPONENT = 'leakGuard'

function patterns(value: unknown, option: string): readonly (string | RegExp)[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' || item instanceof RegExp)) {
    throw invalidOption(COMPONENT, option, 'must be an array of strings and regular expressions')
  }
  return value
}

function positiveInteger(value: unknown, option: string, fallback: number, minimum: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    throw invalidOption(COMPONENT, option, `must be an integer >= ${minimum}`)
  }
  return value
}

export function resolveOptions(options: LeakGuardOptions = {}): ResolvedOptions {
  const mode = options.mode ?? 'warn'
  if (mode !== 'warn' && mode !== 'throw' && mode !== 'report') {
    throw invalidOption(COMPONENT, 'mode', "must be 'warn', 'throw' or 'report'")
  }
  if (options.onFinding !== undefined && typeof options.onFinding !== 'function') {
    throw invalidOption(COMPONENT, 'onFinding', 'must be a function')
  }
  if (mode === 'report' && options.onFinding === undefined) {
    throw invalidOption(COMPONENT, 'onFinding', "is required in 'report' mode")
  }
  const sampleRate = options.sampleRate ?? 1
  if (typeof sampleRate !== 'number' || !(sampleRate >= 0 && sampleRate <= 1)) {
    throw invalidOption(COMPONENT, 'sampleRate', 'must be a number from 0 to 1')
  }
  const extractors =
    options.extract === undefined ? [] : Array.isArray(options.extract) ? options.extract : [options.extract]
  if (!extractors.every((extractor) => typeof extractor === 'function')) {
    throw invalidOption(
      COMPONENT,
      'extract',
      'must be a function or an array of functions (event, context) => values',
    )
  }
  const logger = options.logger ?? console
  if (typeof logger.warn !== 'function')
    throw invalidOption(COMPONENT, 'logger', 'must have a warn(message, details) method')
  return {
    mode,
    onFinding: options.onFinding,
    sampleRate,
    deep: options.deep === true,
    extractors: extractors as readonly Extractor[],
    allowValues: patterns(options.allow?.values, 'allow.values'),
    allowPaths: patterns(options.allow?.paths, 'allow.paths'),
    minLength: positiveInteger(options.minLength, 'minLength', 6, 4),
    maxNodes: positiveInteger(options.budget?.nodes, 'budget.nodes', 50_000, 1),
    maxMs: parseDuration(options.budget?.time ?? '20ms', COMPONENT, 'budget.time'),
    remember: positiveInteger(options.remember, 'remember', 1, 1),
    logger,
    random: options.random ?? Math.random,
    watch: watchOption(options.watch),
  }
}

function watchOption(value: unknown): readonly ((...args: never[]) => unknown)[] | false {
  if (value === undefined) return []
  if (value === false) return false
  const functions = Array.isArray(value) ? value : [value]
  if (!functions.every((fn) => typeof fn === 'function'))
    throw invalidOption(COMPONENT, 'watch', 'must be a function, an array of functions, or false')
  return functions as readonly ((...args: never[]) => unknown)[]
}
