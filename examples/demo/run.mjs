#!/usr/bin/env node
// `npm run demo` (after the packages are built): runs the demo, prints its timeline and summary,
// and with `--report [file]` writes an HTML report. Exits 0 only when the demo's goals held.
import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { runDemo } from './demo.mjs'
import { renderReport } from './report.mjs'
import { printSummary } from './summary.mjs'

const args = process.argv.slice(2)
const reportAt = args.indexOf('--report')
const reportFile =
  reportAt === -1
    ? undefined
    : resolve(args[reportAt + 1]?.startsWith('--') === false ? args[reportAt + 1] : 'report.html')

const color = process.stdout.isTTY && !process.env.NO_COLOR
const write = (line) => console.log(line)
// `--runtime ric`: every environment runs the real Lambda runtime interface client (Node >= 22).
const runtimeAt = args.indexOf('--runtime')
if (runtimeAt !== -1) process.env.WARMSTART_LAMBDA_RUNTIME = args[runtimeAt + 1] ?? ''
write(
  process.env.WARMSTART_LAMBDA_RUNTIME === 'ric'
    ? 'Lambda runtime: aws-lambda-ric, the real runtime interface client'
    : "Lambda runtime: warmstart's runner (--runtime ric for the real runtime interface client)",
)
const { summary, timeline } = await runDemo({ write, color })
printSummary(summary, write)
if (reportFile !== undefined) {
  await writeFile(reportFile, renderReport(summary, timeline))
  write(`HTML report: ${reportFile}`)
}
process.exitCode = summary.goalsMet ? 0 : 1
