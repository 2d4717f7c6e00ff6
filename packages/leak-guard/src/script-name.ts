import { relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** A script's name as a path relative to the working directory when it is under it. */
export function displayScript(name: string): string {
  const file = name.startsWith('file://') ? fileURLToPath(name) : name
  const shown = relative(process.cwd(), file)
  return shown.startsWith('..') || shown === '' ? file : shown.split(sep).join('/')
}
