/** What one invocation did, as Lambda's REPORT line and response would tell it. */
export interface Invocation {
  /** The execution environment that served it: 'env-1', 'env-2', ... */
  environment: string
  /** The process id of that environment. */
  pid: number
  /** context.awsRequestId: a random UUID. */
  requestId: string
  /** True when the environment was started (its module imported) for this invocation. */
  coldStart: boolean
  /** How long the handler module took to import; cold starts only. */
  initDurationMs?: number
  /** How long the handler ran. */
  durationMs: number
  /** False when the handler threw, init failed, the invocation timed out or the process died. */
  ok: boolean
  /** What the handler returned (structured clone of it). */
  result?: unknown
  /** What went wrong, named as Lambda names it (errorType): 'TimeoutError', 'Runtime.ExitError', ... */
  error?: { name: string; message: string; code?: string }
  /** True when the invocation ran past the timeout and its environment was killed. */
  timedOut: boolean
  /** Lines the environment printed during this invocation (and, before it, during init or after
   * the previous invocation returned). */
  logs: string[]
}

/** One execution environment as the simulation sees it. */
export interface EnvironmentInfo {
  readonly id: string
  readonly pid: number
  /** 'frozen': stopped with SIGSTOP; 'busy': starting or running invocations; 'idle': neither. */
  readonly state: 'frozen' | 'busy' | 'idle'
  /** Invocations this environment has served. */
  readonly invocations: number
}

/** How an environment's process ended. */
export interface ExitStatus {
  exitCode: number | null
  signal: string | null
}

/** A handler running across simulated Lambda execution environments. */
export interface Simulation {
  /** Runs one invocation: on an idle environment (the most recently used), a new one, or the one named. */
  invoke(event: unknown, options?: { environment?: string }): Promise<Invocation>
  /** Runs the events concurrently: N at once need N environments (classic mode). */
  burst(events: readonly unknown[]): Promise<Invocation[]>
  /** Lets real time pass; idle environments stay frozen meanwhile. */
  wait(ms: number): Promise<void>
  /** The live environments, oldest first. */
  environments(): readonly EnvironmentInfo[]
  /** SIGKILLs the idle environment(s), as Lambda reaps them: without warning. */
  reap(id?: string): Promise<void>
  /** Lambda's shutdown phase for the idle environment(s): thaw, SIGTERM, SIGKILL after graceMs (default 500). */
  shutdown(id?: string, options?: { graceMs?: number }): Promise<ExitStatus[]>
  /** Kills every environment and rejects invocations in flight. Idempotent; call it in afterAll. */
  stop(): Promise<void>
}
