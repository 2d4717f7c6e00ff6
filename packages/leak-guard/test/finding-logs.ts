import type { LeakFinding } from '@warmstart/leak-guard'
import type { Invocation } from '@warmstart/testing'

/** The prefix of the log line the fixtures' `onFinding` writes for each finding. */
const FINDING_PREFIX = 'leak-finding '

/** What the guard reported during one invocation (the fixtures log one line per finding). */
export function findingsIn(invocation: Invocation): LeakFinding[] {
  return invocation.logs
    .map(messageOf)
    .filter((line) => line.startsWith(FINDING_PREFIX))
    .map((line) => JSON.parse(line.slice(FINDING_PREFIX.length)) as LeakFinding)
}

/** A log line's message: the real runtime client writes JSON lines under Managed Instances (see docs/testing-lambda.md). */
function messageOf(line: string): string {
  if (!line.startsWith('{')) return line
  const { message } = JSON.parse(line) as { message?: unknown }
  return typeof message === 'string' ? message : line
}
