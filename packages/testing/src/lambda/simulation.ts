import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serialize } from 'node:v8'
import { parseDuration, WarmstartError } from '@warmstart/core'
import { lambdaEnvironmentVariables } from './environment-variables.js'
import { environmentBusy, simulationStopped, unknownEnvironment } from './errors.js'
import { ExecutionEnvironment, type InvocationTicket, type StartProcess } from './execution-environment.js'
import { resolveOptions, type SimulateLambdaOptions, type SimulationSettings } from './options.js'
import { ricProcess, ricSupport, ricUnavailable, writeRicClient } from './ric-process.js'
import { runnerPath } from './runner-path.js'
import { runnerProcess } from './runner-process.js'
import type { EnvironmentInfo, ExitStatus, Invocation, Simulation } from './types.js'

const COMPONENT = 'simulateLambda'
const DEFAULT_GRACE_MS = 500

interface Queued {
  readonly ticket: InvocationTicket
  readonly target: string | undefined
}

/**
 * Routes invocations the way Lambda does: to an environment with room (the most recently used
 * first), else to a new one while there are fewer than maxEnvironments, else they wait in order.
 */
class LambdaSimulation implements Simulation {
  private readonly live: ExecutionEnvironment[] = []
  private readonly queue: Queued[] = []
  private environmentsStarted = 0
  private uses = 0
  private stopping: Promise<void> | undefined
  /** A test process that exits without stop() must not leave frozen processes behind. */
  private readonly killOnExit = () => {
    for (const environment of this.live) environment.kill()
    this.removeScratch()
  }

  constructor(
    private readonly settings: SimulationSettings,
    private readonly runtime: Runtime,
  ) {
    process.on('exit', this.killOnExit)
  }

  private removeScratch(): void {
    if (this.runtime.kind === 'ric') rmSync(this.runtime.scratch, { recursive: true, force: true })
  }

  invoke(event: unknown, options?: { environment?: string }): Promise<Invocation> {
    if (this.stopping !== undefined) return Promise.reject(simulationStopped())
    try {
      // The real runtime receives the event as JSON, as Lambda sends it; our runner, as a structured clone.
      if (this.runtime.kind === 'ric') JSON.stringify(event)
      else serialize(event)
    } catch (error) {
      const message = `${COMPONENT}: the event cannot be sent to the function (${(error as Error).message})`
      return Promise.reject(new WarmstartError('ERR_EVENT_NOT_SERIALIZABLE', message))
    }
    const target = options?.environment
    if (target !== undefined && this.find(target) === undefined)
      return Promise.reject(unknownEnvironment(target))
    return new Promise((settle, fail) => {
      this.queue.push({ ticket: { requestId: randomUUID(), event, settle, fail }, target })
      this.dispatchQueued()
    })
  }

  burst(events: readonly unknown[]): Promise<Invocation[]> {
    return Promise.all(events.map((event) => this.invoke(event)))
  }

  async wait(ms: number): Promise<void> {
    const delay = parseDuration(ms, COMPONENT, 'wait(ms)')
    return new Promise((resolve) => setTimeout(resolve, delay))
  }

  environments(): readonly EnvironmentInfo[] {
    return this.live.map((environment) => environment.info())
  }

  async reap(id?: string): Promise<void> {
    await Promise.all(this.idleTargets(id).map((environment) => environment.kill()))
  }

  async shutdown(id?: string, options?: { graceMs?: number }): Promise<ExitStatus[]> {
    const graceMs = parseDuration(options?.graceMs ?? DEFAULT_GRACE_MS, COMPONENT, 'graceMs')
    return Promise.all(this.idleTargets(id).map((environment) => environment.shutdown(graceMs)))
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const { ticket } of this.queue.splice(0)) ticket.fail(simulationStopped())
      await Promise.all(this.live.map((environment) => environment.stop()))
      process.off('exit', this.killOnExit)
      this.removeScratch()
    })()
    return this.stopping
  }

  private find(id: string): ExecutionEnvironment | undefined {
    return this.live.find((environment) => environment.id === id)
  }

  private idleTargets(id: string | undefined): ExecutionEnvironment[] {
    if (id === undefined) return this.live.filter((environment) => environment.idle)
    const environment = this.find(id)
    if (environment === undefined) throw unknownEnvironment(id)
    if (!environment.idle) throw environmentBusy(id)
    return [environment]
  }

  private dispatchQueued(): void {
    if (this.stopping !== undefined) return
    for (let index = 0; index < this.queue.length; ) {
      const { ticket, target } = this.queue[index]!
      if (target !== undefined && this.find(target) === undefined) {
        // The environment it was meant for died while it waited.
        this.queue.splice(index, 1)
        ticket.fail(unknownEnvironment(target))
        continue
      }
      const environment = target === undefined ? this.route() : this.find(target)!
      if (environment === undefined || !environment.available) {
        index += 1
        continue
      }
      this.queue.splice(index, 1)
      this.uses += 1
      environment.assign(ticket, this.uses)
    }
  }

  private route(): ExecutionEnvironment | undefined {
    let best: ExecutionEnvironment | undefined
    for (const environment of this.live) {
      if (environment.available && (best === undefined || environment.lastUsed > best.lastUsed))
        best = environment
    }
    if (best !== undefined || this.live.length >= this.settings.maxEnvironments) return best
    return this.start()
  }

  private start(): ExecutionEnvironment {
    this.environmentsStarted += 1
    const { settings } = this
    const id = `env-${this.environmentsStarted}`
    const environment = new ExecutionEnvironment(
      {
        id,
        start: this.process(id),
        timeoutMs: settings.timeoutMs,
        concurrency: settings.concurrencyPerEnvironment,
        freeze: settings.freeze,
      },
      (freed) => this.freed(freed),
    )
    this.live.push(environment)
    return environment
  }

  private process(id: string): StartProcess {
    const { settings, runtime } = this
    const env = lambdaEnvironmentVariables(settings)
    if (runtime.kind === 'runner') {
      return runnerProcess({
        runnerPath: runtime.runnerPath,
        args: [settings.modulePath, settings.exportName],
        env,
        execArgv: settings.execArgv,
      })
    }
    // One worker thread by default: one module instance per environment, as under our runner
    // (Lambda starts 8 per vCPU, each with its own module state; set it in `env` to have that).
    if (settings.mode === 'managed-instances') env.AWS_LAMBDA_NODEJS_WORKER_COUNT ??= '1'
    return ricProcess({
      entry: runtime.entry,
      preload: runtime.preload,
      outputPrefix: join(runtime.scratch, id),
      env,
      execArgv: settings.execArgv,
    })
  }

  private freed(environment: ExecutionEnvironment): void {
    if (environment.exited) this.live.splice(this.live.indexOf(environment), 1)
    this.dispatchQueued()
  }
}

/**
 * Runs a handler module the way Lambda does: each execution environment is a child Node process
 * that imports the module once and then serves invocations, frozen with SIGSTOP in between.
 * Always call `stop()` when done (afterAll).
 */
export function simulateLambda(options: SimulateLambdaOptions): Simulation {
  const settings = resolveOptions(options)
  return new LambdaSimulation(
    settings,
    settings.runtime === 'ric' ? ricRuntime() : { kind: 'runner', runnerPath: runnerPath() },
  )
}

/** What the environments of a simulation run. */
type Runtime =
  | { readonly kind: 'runner'; readonly runnerPath: string }
  | { readonly kind: 'ric'; readonly entry: string; readonly preload: string; readonly scratch: string }

/** The real runtime interface client, or ERR_RIC_UNAVAILABLE saying why it cannot run here. */
function ricRuntime(): Runtime {
  const support = ricSupport()
  if (!support.available) throw ricUnavailable(support.reason!)
  const scratch = mkdtempSync(join(tmpdir(), 'warmstart-ric-'))
  return { kind: 'ric', entry: support.entry!, preload: writeRicClient(scratch), scratch }
}
