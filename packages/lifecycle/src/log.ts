import type { Logger } from '@warmstart/core'

type Level = 'info' | 'warn' | 'error'

/**
 * The default logger: one JSON object per line on stdout, written past `console` so that Lambda
 * stores it as is and CloudWatch Logs Insights discovers its fields without parsing.
 */
export const jsonLinesLogger: Logger = {
  info: (message, details) => writeLine('info', message, details),
  warn: (message, details) => writeLine('warn', message, details),
  error: (message, details) => writeLine('error', message, details),
}

function writeLine(level: Level, message: string, details: Record<string, unknown> | undefined): void {
  process.stdout.write(`${JSON.stringify({ level, message, ...details, time: new Date().toISOString() })}\n`)
}
