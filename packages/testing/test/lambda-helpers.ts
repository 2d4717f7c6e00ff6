import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'
import { type SimulateLambdaOptions, type Simulation, simulateLambda } from '../src/index.js'

/** The absolute path of a handler fixture, with its export: 'actions.mjs#handler'. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))
}

const started: Simulation[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((simulation) => simulation.stop()))
})

/** A simulation stopped after the test, whatever happens in it. */
export function simulate(options: SimulateLambdaOptions): Simulation {
  const simulation = simulateLambda(options)
  started.push(simulation)
  return simulation
}

/** The state letter of a process in /proc/<pid>/stat ('R', 'S', 'T', ...), or undefined once gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

/** Polls until the predicate holds (signal delivery is asynchronous); false after ~2 s. */
export async function eventually(predicate: () => boolean): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (predicate()) return true
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return predicate()
}

export function isAlive(pid: number): boolean {
  const state = processState(pid)
  return state !== undefined && state !== 'Z'
}
