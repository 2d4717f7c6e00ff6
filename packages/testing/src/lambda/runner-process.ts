import { fork } from 'node:child_process'
import type { OutputStream, StartProcess } from './execution-environment.js'
import { LogLineSplitter } from './log-lines.js'
import type { RunnerMessage } from './protocol.js'

export interface RunnerProcessSettings {
  readonly runnerPath: string
  readonly args: readonly string[]
  readonly env: Record<string, string>
  readonly execArgv: readonly string[]
}

/**
 * An environment's process running warmstart's own runner (`dist/runner.js`), forked with an IPC
 * channel: results come as messages, log lines are tagged with their request id and each
 * invocation ends its output with an end mark on both streams.
 */
export function runnerProcess(settings: RunnerProcessSettings): StartProcess {
  return (events) => {
    const child = fork(settings.runnerPath, [...settings.args], {
      env: settings.env,
      execArgv: [...settings.execArgv],
      serialization: 'advanced',
      silent: true,
    })
    child.on('message', (message: RunnerMessage) => events.message(message))
    for (const stream of ['stdout', 'stderr'] as const satisfies readonly OutputStream[]) {
      const output = child[stream]!
      const splitter = new LogLineSplitter((line) => events.line(stream, line))
      output.setEncoding('utf8')
      output.on('data', (chunk: string) => splitter.push(chunk))
      output.on('end', () => splitter.flush())
    }
    child.on('close', (exitCode, signal) => events.close(exitCode, signal))
    // The process failed to spawn or the channel broke: 'close' follows and settles everything.
    child.on('error', () => undefined)
    return {
      pid: child.pid ?? -1,
      signal: (signal) => {
        child.kill(signal)
      },
      // A send to a process that just died fails; 'close' then settles the invocation.
      invoke: (message) => child.send(message, () => undefined),
    }
  }
}
