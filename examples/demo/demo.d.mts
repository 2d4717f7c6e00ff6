import type { Invocation } from '@warmstart/testing'

export interface DemoFinding {
  path: string
  kind: string
  match: string
  value: string
  invocation: string
  check: 'fast' | 'deep'
}

export interface DemoRow {
  fn: 'orders' | 'leaky'
  invocation: Invocation
  request: string
  status: string
  /** Seconds from the first invocation. */
  startedAt: number
  endedAt: number
  calls?: { ssm: number; sm: number }
  connections?: number
  findings: DemoFinding[]
}

export interface DemoTimeline {
  readonly rows: readonly DemoRow[]
  readonly marks: readonly { label: string; at: number }[]
  readonly phases: readonly { title: string; at: number }[]
}

export interface DemoSummary {
  invocations: number
  failures: number
  coldStarts: number
  ssmCalls: number
  secretsManagerCalls: number
  connectionsOpened: number
  leaks: { clean: number; leaky: number }
  bundles: { orders: number; leaky: number }
  wallSeconds: number
  goalsMet: boolean
}

export declare function runDemo(options?: {
  write?: (line: string) => void
  color?: boolean
}): Promise<{ summary: DemoSummary; timeline: DemoTimeline }>
