import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { WarmstartError } from '@warmstart/core'
import { SIMULATED_ACCOUNT_ID } from './context.js'
import type { EnvironmentProcess, OutputStream, StartProcess } from './execution-environment.js'
import type { LogLine } from './log-lines.js'
import type { InvokeMessage, ReportedError } from './protocol.js'
import { RIC_CLIENT, RIC_PRELOAD } from './ric-client-source.js'
import { testingPackageDir } from './runner-path.js'
import { RuntimeApi, type RuntimeApiEvents, type RuntimeError } from './runtime-api.js'

/** The oldest Node.js that aws-lambda-ric 4 runs on (its `engines`). */
export const RIC_MINIMUM_NODE = 22

/** Whether `runtime: 'ric'` can run here, and if not, why (for a test's skip message). */
export interface RicSupport {
  readonly available: boolean
  /** The runtime's entry point (`.../aws-lambda-ric/index.mjs`) when available. */
  readonly entry?: string
  readonly reason?: string
}

/** @warmstart/testing's own package.json: a place to resolve the optional peer from. */
function ownManifest(): string {
  try {
    return join(testingPackageDir(), 'package.json')
  } catch {
    return join(process.cwd(), 'package.json')
  }
}

function nodeMajor(version: string): number {
  return Number(version.split('.')[0])
}

/**
 * Finds aws-lambda-ric: from the project being tested (the working directory) first, then from
 * wherever @warmstart/testing is installed. It is an optional peer: nothing else needs it.
 */
export function ricSupport(
  options: { nodeVersion?: string; searchFrom?: readonly string[] } = {},
): RicSupport {
  const version = options.nodeVersion ?? process.versions.node
  if (nodeMajor(version) < RIC_MINIMUM_NODE) {
    return {
      available: false,
      reason: `aws-lambda-ric needs Node.js >= ${RIC_MINIMUM_NODE} (this is ${version})`,
    }
  }
  const from = options.searchFrom ?? [join(process.cwd(), 'package.json'), ownManifest()]
  for (const place of from) {
    try {
      const manifest = createRequire(place).resolve('aws-lambda-ric/package.json')
      const entry = join(dirname(manifest), 'index.mjs')
      if (existsSync(entry)) return { available: true, entry }
    } catch {
      // Not installed there: try the next place.
    }
  }
  return {
    available: false,
    reason: 'aws-lambda-ric is not installed (npm install --save-dev aws-lambda-ric)',
  }
}

/** The typed error simulateLambda throws for `runtime: 'ric'` where it cannot run. */
export function ricUnavailable(reason: string): WarmstartError {
  return new WarmstartError('ERR_RIC_UNAVAILABLE', `simulateLambda: runtime 'ric' cannot run: ${reason}`)
}

/** Writes the preload and its JavaScript Runtime API client into `directory`; returns the preload. */
export function writeRicClient(directory: string): string {
  const preload = join(directory, 'ric-preload.cjs')
  writeFileSync(preload, RIC_PRELOAD)
  writeFileSync(join(directory, 'rapid-client.cjs'), RIC_CLIENT)
  return preload
}

const TEXT_LINE =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\t([^\t]*)\t(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\t([\s\S]*)$/

/**
 * One line of the runtime's output. In text format it is `timestamp TAB requestId TAB LEVEL TAB
 * message`, the message's newlines turned into `\r`: the message comes back as the lines the
 * function printed, so `logs` reads as under our runner. A JSON line (AWS_LAMBDA_LOG_FORMAT=JSON,
 * always under Managed Instances) is kept whole. Anything else (process.stdout.write, a crash's
 * stack trace) is untagged.
 */
export function parseRuntimeLine(line: string): LogLine[] {
  const text = TEXT_LINE.exec(line)
  if (text !== null) {
    const requestId = text[2]!
    return text[4]!.split('\r').map((part) => ({ kind: 'text', text: part, requestId }))
  }
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as { requestId?: unknown }
      if (typeof parsed.requestId === 'string')
        return [{ kind: 'text', text: line, requestId: parsed.requestId }]
    } catch {
      // Not JSON after all: an untagged line.
    }
  }
  return [{ kind: 'text', text: line }]
}

/**
 * A file the runtime's stdout or stderr is written to. Node writes to a file synchronously, so
 * everything the runtime printed before it posted a result is in the file when the post arrives:
 * reading the file then gives exactly the lines so far, with no race against a pipe.
 */
class OutputFile {
  readonly fd: number
  private offset = 0
  private partial = ''

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w+')
  }

  /** The complete lines written since the last read; at the end, the last one without newline too. */
  read(final = false): string[] {
    const buffer = Buffer.alloc(64 * 1024)
    let text = this.partial
    for (;;) {
      const size = readSync(this.fd, buffer, 0, buffer.length, this.offset)
      if (size === 0) break
      this.offset += size
      text += buffer.toString('utf8', 0, size)
    }
    const lines = text.split('\n')
    this.partial = lines.pop()!
    if (final && this.partial !== '') {
      lines.push(this.partial)
      this.partial = ''
    }
    return lines
  }

  close(): void {
    closeSync(this.fd)
  }
}

export interface RicProcessSettings {
  /** aws-lambda-ric's index.mjs. */
  readonly entry: string
  /** The preload written by writeRicClient. */
  readonly preload: string
  /** Where this environment's output files go (stdout and stderr, named after it). */
  readonly outputPrefix: string
  readonly env: Record<string, string>
  readonly execArgv: readonly string[]
}

function reported(error: RuntimeError): ReportedError {
  return { name: error.errorType, message: error.errorMessage }
}

/**
 * An environment's process running the real runtime interface client,
 * `node --require <preload> aws-lambda-ric/index.mjs <_HANDLER>`, against a Runtime API of its
 * own. Init is done when the runtime first asks for an invocation; an invocation is done when
 * its response or error is posted, and its log lines are read from the output files then.
 */
export function ricProcess(settings: RicProcessSettings): StartProcess {
  return (events) => {
    const outputs = {
      stdout: new OutputFile(`${settings.outputPrefix}.stdout`),
      stderr: new OutputFile(`${settings.outputPrefix}.stderr`),
    } satisfies Record<OutputStream, OutputFile>
    const sentAt = new Map<string, number>()
    let child: ChildProcess | undefined
    let api: RuntimeApi | undefined
    let spawnedAt = 0
    let killedBeforeSpawn = false
    const invokesBeforeSpawn: InvokeMessage[] = []

    const drain = (final = false) => {
      for (const stream of ['stdout', 'stderr'] as const) {
        for (const line of outputs[stream].read(final)) {
          for (const parsed of parseRuntimeLine(line)) events.line(stream, parsed)
        }
      }
    }
    const finished = (requestId: string) => {
      // A last line printed without a newline belongs to the invocation that printed it.
      drain(true)
      events.line('stdout', { kind: 'end', requestId })
      events.line('stderr', { kind: 'end', requestId })
      const started = sentAt.get(requestId) ?? performance.now()
      sentAt.delete(requestId)
      return performance.now() - started
    }
    const functionName = settings.env.AWS_LAMBDA_FUNCTION_NAME ?? ''
    const region = settings.env.AWS_REGION ?? ''
    const functionArn = `arn:aws:lambda:${region}:${SIMULATED_ACCOUNT_ID}:function:${functionName}`
    const send = (message: InvokeMessage) => {
      sentAt.set(message.requestId, performance.now())
      api!.invoke({
        requestId: message.requestId,
        payload: JSON.stringify(message.event) ?? 'null',
        deadlineMs: message.deadline,
        functionArn,
      })
    }
    const handlers: RuntimeApiEvents = {
      ready: (uptimeMs) => {
        drain()
        events.message({ type: 'ready', initDurationMs: uptimeMs ?? performance.now() - spawnedAt })
      },
      response: (requestId, body) => {
        const durationMs = finished(requestId)
        let result: unknown
        try {
          result = JSON.parse(body)
        } catch {
          result = body
        }
        events.message({ type: 'result', requestId, durationMs, ok: true, result })
      },
      error: (requestId, error) => {
        const durationMs = finished(requestId)
        events.message({ type: 'result', requestId, durationMs, ok: false, error: reported(error) })
      },
      initError: (error) => {
        drain()
        events.message({
          type: 'init-error',
          initDurationMs: performance.now() - spawnedAt,
          error: reported(error),
        })
      },
    }
    const closed = (exitCode: number | null, signal: string | null) => {
      drain(true)
      outputs.stdout.close()
      outputs.stderr.close()
      void api?.close()
      events.close(exitCode, signal)
    }

    const handle: EnvironmentProcess = {
      get pid() {
        return child?.pid ?? -1
      },
      signal: (signal) => {
        if (child !== undefined) child.kill(signal)
        else if (signal === 'SIGKILL' || signal === 'SIGTERM') killedBeforeSpawn = true
      },
      invoke: (message) => {
        if (api === undefined || child === undefined) invokesBeforeSpawn.push(message)
        else send(message)
      },
    }

    RuntimeApi.start(handlers).then(
      (started) => {
        api = started
        if (killedBeforeSpawn) return closed(null, 'SIGKILL')
        const handler = settings.env._HANDLER ?? ''
        spawnedAt = performance.now()
        child = spawn(
          process.execPath,
          ['--require', settings.preload, ...settings.execArgv, settings.entry, handler],
          {
            env: { ...settings.env, AWS_LAMBDA_RUNTIME_API: started.address },
            stdio: ['ignore', outputs.stdout.fd, outputs.stderr.fd],
          },
        )
        // Init is counted from the moment the process exists, not from the request to create it.
        child.once('spawn', () => {
          spawnedAt = performance.now()
        })
        child.on('close', closed)
        // A failed spawn is followed by 'close', which settles everything.
        child.on('error', () => undefined)
        for (const message of invokesBeforeSpawn.splice(0)) send(message)
      },
      () => closed(null, null),
    )
    return handle
  }
}
