import type { Duration, Logger } from '@warmstart/core'
import { checkOptions, durationOption, invalidOption, positiveInteger } from '@warmstart/core/internal'
import type { DeepResult } from './deep-search.js'
import type { Extractor } from './extract.js'
import type { LeakFinding } from './finding.js'
import type { Matcher } from './matcher.js'
import type { Reveals } from './redact.js'

/**
 * The deep check, as `@warmstart/leak-guard/deep` exports it (`deepCheck`): a V8 heap snapshot of the
 * whole process, searched for what keeps request data alive. It lives in its own entry so that a
 * bundle that does not import it does not carry it.
 */
export interface DeepCheck {
  /**
   * Called by the guard only: its arguments are the guard's internals, so it is left out of the API
   * reference (a value to pass, not to call).
   * @internal
   */
  readonly search: (matcher: Matcher, skipped: readonly object[], reveals: Reveals) => Promise<DeepResult>
}

export type LeakGuardMode = 'warn' | 'throw' | 'report'

export interface LeakGuardOptions {
  /** `warn` (default): log through `logger`; `throw`: fail the invocation with LeakFoundError (tests); `report`: call `onFinding`. */
  mode?: LeakGuardMode
  /** Receives each check's findings in `report` mode (and in the other modes too, when given). */
  onFinding?: (findings: readonly LeakFinding[]) => void
  /**
   * Share of invocations checked, 0 to 1. Default 0.01 in `warn` mode (production: a check costs
   * milliseconds on a handler with real module state, see docs/benchmarks.md), 1 in `throw` and
   * `report` mode (tests).
   */
  sampleRate?: number
  /**
   * The deep check, run for each checked invocation once it has ended (when the next one begins):
   * `import { deepCheck } from '@warmstart/leak-guard/deep'` and pass `deep: deepCheck`. A heap
   * snapshot of the whole process each time: seconds and several times the heap in memory on a
   * large heap (see docs/leak-guard.md). For tests and CI, never production.
   */
  deep?: DeepCheck
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
  /** Where `warn` mode writes findings, and where a callback that threw is reported (default console). */
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
  readonly deep: DeepCheck | undefined
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

const OPTIONS = [
  'mode',
  'onFinding',
  'sampleRate',
  'deep',
  'extract',
  'allow',
  'minLength',
  'budget',
  'remember',
  'logger',
  'random',
  'watch',
] as const

/** `deep: true` was the way before the deep check had its own entry: say what replaces it. */
function deepOption(value: unknown): DeepCheck | undefined {
  if (value === undefined || value === false) return undefined
  if (typeof value === 'object' && value !== null && typeof (value as DeepCheck).search === 'function')
    return value as DeepCheck
  throw invalidOption(
    COMPONENT,
    'deep',
    "must be the deep check of '@warmstart/leak-guard/deep': import { deepCheck } from '@warmstart/leak-guard/deep', then deep: deepCheck",
  )
}

export function resolveOptions(options: LeakGuardOptions = {}): ResolvedOptions {
  checkOptions(COMPONENT, options, OPTIONS)
  checkOptions(COMPONENT, options.allow, ['values', 'paths'], 'allow')
  checkOptions(COMPONENT, options.budget, ['nodes', 'time'], 'budget')
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
  // 'warn' is the production mode: a check of every invocation costs milliseconds on a handler with
  // real module state (docs/benchmarks.md), one in a hundred costs about 0.1 ms on average. Tests
  // ('throw', 'report') check every invocation.
  const sampleRate = options.sampleRate ?? (mode === 'warn' ? 0.01 : 1)
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
  if (options.random !== undefined && typeof options.random !== 'function')
    throw invalidOption(COMPONENT, 'random', 'must be a function () => number from 0 to 1')
  const logger = options.logger ?? console
  if (typeof logger.warn !== 'function')
    throw invalidOption(COMPONENT, 'logger', 'must have a warn(message, details) method')
  return {
    mode,
    onFinding: options.onFinding,
    sampleRate,
    deep: deepOption(options.deep),
    extractors: extractors as readonly Extractor[],
    allowValues: patterns(options.allow?.values, 'allow.values'),
    allowPaths: patterns(options.allow?.paths, 'allow.paths'),
    minLength: positiveInteger(COMPONENT, 'minLength', options.minLength, 6, 4),
    maxNodes: positiveInteger(COMPONENT, 'budget.nodes', options.budget?.nodes, 50_000),
    maxMs: durationOption(COMPONENT, 'budget.time', options.budget?.time, 20),
    remember: positiveInteger(COMPONENT, 'remember', options.remember, 1),
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
