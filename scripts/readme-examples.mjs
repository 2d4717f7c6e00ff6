// The package READMEs' runnable examples, as a user meets them: a README that says "Runs as is:
// `npm install ...`, save it as `<file>`, `npx tsx <file>`" (or `node <file>`) promises that its
// first code block does what it shows. What it shows, in order:
//   - `console.log(...) // X`: X is printed (exactly, but for `...`, which stands for anything);
//   - a fence without a language right after the example (or after one line that introduces it,
//     ending with ':'): a sample run's output, line by line, where `...` stands for anything and
//     every number for any number (durations, sizes).
// The consumer check installs each README's packages alone (the packed tarballs, plain npm) and
// runs its example; `missingOutput` says what of the promised output did not appear.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const RUNS_AS_IS = /Runs as is: `npm install ([^`]+)`, save it as `([^`]+)`,\s+`(npx tsx|node) \2`/
const FENCE = /^```([\w-]*)\n([\s\S]*?)^```\n?/gm
const INLINE = /console\.log\(.*\)\s*\/\/ (.+)$/

/** Every package README that promises a runnable example: what to install, where to save it, what it prints. */
export function readmeExamples(root) {
  const examples = []
  for (const name of readdirSync(join(root, 'packages'))) {
    let text
    try {
      text = readFileSync(join(root, 'packages', name, 'README.md'), 'utf8')
    } catch {
      continue
    }
    const promise = RUNS_AS_IS.exec(text)
    if (promise === null) continue
    const rest = text.slice(promise.index)
    const fences = [...rest.matchAll(FENCE)]
    const code = fences[0]
    if (code === undefined)
      throw new Error(`packages/${name}/README.md: "Runs as is" with no code block after it`)
    const expected = code[2]
      .split('\n')
      .map((line) => INLINE.exec(line)?.[1])
      .filter((text) => text !== undefined)
      .map((text) => ({ text, pattern: pattern(text, false) }))
    const next = fences[1]
    const after = next === undefined ? undefined : rest.slice(code.index + code[0].length, next.index)
    if (next !== undefined && next[1] === '' && /^(?:[^\n]*:)?$/.test(after.trim())) {
      for (const line of next[2].split('\n')) {
        if (line.trim() !== '') expected.push({ text: line, pattern: pattern(line, true) })
      }
    }
    examples.push({
      name,
      install: promise[1].split(/\s+/).filter(Boolean),
      file: promise[2],
      runner: promise[3],
      source: code[2],
      expected,
    })
  }
  return examples
}

/** The first promised line that the output does not hold, in order; undefined when all are there. */
export function missingOutput(output, expected) {
  const flat = collapse(output)
  let from = 0
  for (const entry of expected) {
    entry.pattern.lastIndex = from
    const found = entry.pattern.exec(flat)
    if (found === null) return entry.text
    from = found.index + found[0].length
  }
  return undefined
}

// Output is compared with white space folded: Node prints a long object over several lines.
function collapse(text) {
  return text.replace(/\s+/g, ' ').trim()
}

function pattern(text, sample) {
  const parts = collapse(text).split('...')
  const literal = (part) => {
    const escaped = part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    return sample ? escaped.replace(/\d+/g, '\\d+') : escaped
  }
  return new RegExp(parts.map(literal).join('.*?'), 'g')
}
