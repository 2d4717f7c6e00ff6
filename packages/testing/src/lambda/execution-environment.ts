import { performance } from 'node:perf_hooks'
import { initTimedOut, runtimeExited, simulationStopped, taskTimedOut } from './errors.js'
import type { LogLine } from './log-lines.js'
import type { InvokeMessage, ReportedError, ResultMessage, RunnerMessage } from './protocol.js'
import type { EnvironmentInfo, ExitStatus, Invocation } from './types.js'

/** One invocation handed to an environment, until it settles. */
export interface InvocationTicket {
  readonly requestId: string
  readonly event: unknown
  settle(invocation: Invocation): void
  fail(error: Error): void
}

export type OutputStream = 'stdout' | 'stderr'

/** What the process of an environment tells, whichever runtime runs in it. */
export interface ProcessEvents {
  /** Init finished or failed, or an invocation finished (after its log lines were given). */
  message(message: RunnerMessage): void
  /** A line of output, or the mark that an invocation has printed everything on a stream. */
  line(stream: OutputStream, line: LogLine): void
  /** The process is gone and its output is read. */
  close(exitCode: number | null, signal: string | null): void
}

/** The process of one environment, as the environment drives it. */
export interface EnvironmentProcess {
  /** -1 until the process is spawned. */
  readonly pid: number
  signal(signal: NodeJS.Signals): void
  invoke(message: InvokeMessage): void
}

/** Starts the process of an environment: our runner, or the real runtime interface client. */
export type StartProcess = (events: ProcessEvents) => EnvironmentProcess

interface Running {
  readonly ticket: InvocationTicket
  readonly coldStart: boolean
  readonly logs: string[]
  readonly ended: Set<OutputStream>
  started?: number
  result?: ResultMessage
  timer?: NodeJS.Timeout
  timedOut: boolean
}

export interface EnvironmentSettings {
  readonly id: string
  readonly start: StartProcess
  readonly timeoutMs: number
  readonly concurrency: number
  readonly freeze: boolean
}

type Phase = 'starting' | 'ready' | 'frozen' | 'ending' | 'exited'

/**
 * One execution environment: a child process that imports the handler module once, takes up to
 * `concurrency` invocations at a time, and is frozen with SIGSTOP whenever it has none (when
 * `freeze` is set). Everything still pending when the process exits settles then, with the logs
 * read up to that moment, so nothing ever hangs.
 */
export class ExecutionEnvironment {
  readonly id: string
  /** Resolves once the process has exited and its output is read. */
  readonly closed: Promise<ExitStatus>
  /** Order of last use, for routing to the most recently used environment. */
  lastUsed = 0
  private phase: Phase = 'starting'
  private served = 0
  private initDurationMs: number | undefined
  private initError: ReportedError | undefined
  private initTimer: NodeJS.Timeout | undefined
  private stopped = false
  private readonly awaitingInit: Running[] = []
  private readonly running = new Map<string, Running>()
  /** Lines nobody in flight printed (init, work after a return): they open the next invocation's logs. */
  private pendingLogs: string[] = []
  private readonly child: EnvironmentProcess

  constructor(
    private readonly settings: EnvironmentSettings,
    private readonly onFree: (environment: ExecutionEnvironment) => void,
  ) {
    this.id = settings.id
    let closed!: (status: ExitStatus) => void
    this.closed = new Promise((resolve) => {
      closed = resolve
    })
    this.child = settings.start({
      message: (message) => this.receive(message),
      line: (stream, line) => this.attribute(stream, line),
      close: (exitCode, signal) => {
        this.close(exitCode, signal)
        closed({ exitCode, signal })
      },
    })
    this.initTimer = setTimeout(() => {
      this.initError = initTimedOut(settings.timeoutMs)
      this.timeOut(this.awaitingInit)
    }, settings.timeoutMs)
  }

  get pid(): number {
    return this.child.pid
  }

  /** Invocations started or in flight, against the concurrency of the environment. */
  get load(): number {
    return this.awaitingInit.length + this.running.size
  }

  /** Whether one more invocation can be given to this environment now. */
  get available(): boolean {
    return this.phase !== 'ending' && this.phase !== 'exited' && this.load < this.settings.concurrency
  }

  get exited(): boolean {
    return this.phase === 'exited'
  }

  get idle(): boolean {
    return (this.phase === 'ready' || this.phase === 'frozen') && this.load === 0
  }

  info(): EnvironmentInfo {
    const state = this.phase === 'frozen' ? 'frozen' : this.idle ? 'idle' : 'busy'
    return { id: this.id, pid: this.pid, state, invocations: this.served }
  }

  /** Takes an invocation: it runs once init is done, at once when the environment is ready. */
  assign(ticket: InvocationTicket, order: number): void {
    this.lastUsed = order
    const running: Running = {
      ticket,
      coldStart: this.phase === 'starting',
      logs: [],
      ended: new Set(),
      timedOut: false,
    }
    if (this.phase === 'starting') this.awaitingInit.push(running)
    else this.dispatch(running)
  }

  /**
   * The one place where an invocation is decided to have timed out: it is marked, and the
   * environment is killed in the same step. From here on nothing the process still sends can
   * settle it (close() does, as a timeout) or make the environment take another invocation.
   */
  private timeOut(runs: Iterable<Running>): void {
    for (const running of runs) running.timedOut = true
    this.kill()
  }

  /** SIGKILL, as Lambda reaps: works on a frozen process too. */
  kill(): Promise<ExitStatus> {
    this.phase = this.phase === 'exited' ? 'exited' : 'ending'
    this.child.signal('SIGKILL')
    return this.closed
  }

  /** Kills the environment; whatever it still runs is rejected with ERR_SIMULATION_STOPPED. */
  stop(): Promise<ExitStatus> {
    this.stopped = true
    return this.kill()
  }

  /** Lambda's shutdown phase: thaw, SIGTERM, and SIGKILL if the process is still there after graceMs. */
  async shutdown(graceMs: number): Promise<ExitStatus> {
    this.phase = 'ending'
    this.child.signal('SIGCONT')
    this.child.signal('SIGTERM')
    const deadline = setTimeout(() => this.child.signal('SIGKILL'), graceMs)
    const status = await this.closed
    clearTimeout(deadline)
    return status
  }

  private attribute(stream: OutputStream, line: LogLine): void {
    if (line.kind === 'end') {
      const running = this.running.get(line.requestId)
      running?.ended.add(stream)
      if (running !== undefined) this.completeIfDone(running)
      return
    }
    const tagged = line.requestId === undefined ? undefined : this.running.get(line.requestId)
    const [only] = this.running.values()
    const target = tagged ?? (this.running.size === 1 && !only!.ended.has(stream) ? only : undefined)
    if (target === undefined) this.pendingLogs.push(line.text)
    else target.logs.push(line.text)
  }

  private receive(message: RunnerMessage): void {
    if (message.type === 'result') {
      const running = this.running.get(message.requestId)
      if (running === undefined) return
      running.result = message
      this.completeIfDone(running)
      return
    }
    // Init already timed out or the environment was stopped: it is being killed, never ready.
    if (this.phase !== 'starting') return
    clearTimeout(this.initTimer)
    this.initDurationMs = message.initDurationMs
    if (message.type === 'init-error') {
      // Lambda discards an environment whose init failed; its invocations settle when it is gone.
      this.initError = message.error
      this.kill()
      return
    }
    this.phase = 'ready'
    for (const running of this.awaitingInit.splice(0)) this.dispatch(running)
  }

  private dispatch(running: Running): void {
    if (this.phase === 'frozen') this.child.signal('SIGCONT')
    this.phase = 'ready'
    const { requestId, event } = running.ticket
    running.logs.push(...this.pendingLogs.splice(0))
    running.started = performance.now()
    this.running.set(requestId, running)
    const message: InvokeMessage = {
      type: 'invoke',
      requestId,
      event,
      deadline: Date.now() + this.settings.timeoutMs,
    }
    // A send to a process that just died fails; 'close' then settles the invocation.
    this.child.invoke(message)
    running.timer = setTimeout(() => this.timeOut([running]), this.settings.timeoutMs)
  }

  /** An invocation is done once its result and the end of its output on both streams are in. */
  private completeIfDone(running: Running): void {
    const result = running.result
    // A result that arrives after the timeout fired (both were due in the same turn of the loop)
    // does not count: the environment is being killed and close() reports the timeout.
    if (result === undefined || running.ended.size < 2 || running.timedOut) return
    clearTimeout(running.timer)
    this.running.delete(result.requestId)
    this.served += 1
    // Only a live environment is frozen: one being killed stays 'ending' and takes no invocation.
    if (this.load === 0 && this.settings.freeze && this.phase === 'ready') {
      this.child.signal('SIGSTOP')
      this.phase = 'frozen'
    }
    const invocation = this.invocation(running, {
      durationMs: result.durationMs,
      ok: result.ok,
      timedOut: false,
    })
    if (result.ok) invocation.result = result.result
    else invocation.error = result.error!
    running.ticket.settle(invocation)
    this.onFree(this)
  }

  private invocation(
    running: Running,
    outcome: Pick<Invocation, 'durationMs' | 'ok' | 'timedOut'>,
  ): Invocation {
    const invocation: Invocation = {
      environment: this.id,
      pid: this.pid,
      requestId: running.ticket.requestId,
      coldStart: running.coldStart,
      ...outcome,
      logs: running.logs,
    }
    if (running.coldStart && this.initDurationMs !== undefined)
      invocation.initDurationMs = this.initDurationMs
    return invocation
  }

  /** The process is gone: settle everything it still held, then let the simulation forget it. */
  private close(exitCode: number | null, signalCode: string | null): void {
    this.phase = 'exited'
    clearTimeout(this.initTimer)
    for (const running of [...this.awaitingInit.splice(0), ...this.running.values()]) {
      clearTimeout(running.timer)
      if (this.stopped) {
        running.ticket.fail(simulationStopped())
        continue
      }
      running.logs.push(...this.pendingLogs.splice(0))
      const durationMs = running.started === undefined ? 0 : performance.now() - running.started
      const invocation = this.invocation(running, { durationMs, ok: false, timedOut: running.timedOut })
      invocation.error =
        running.started === undefined
          ? (this.initError ?? runtimeExited(running.ticket.requestId, exitCode, signalCode))
          : running.timedOut
            ? taskTimedOut(this.settings.timeoutMs)
            : runtimeExited(running.ticket.requestId, exitCode, signalCode)
      running.ticket.settle(invocation)
    }
    this.running.clear()
    this.onFree(this)
  }
}
