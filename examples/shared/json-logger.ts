import type { Logger } from '@warmstart/core'

/**
 * One JSON object per line on stdout, as CloudWatch Logs Insights reads them best. Any logger with
 * this shape fits warmstart's `logger` options: Powertools' Logger, pino, console.
 */
export const jsonLogger: Required<Logger> = {
  debug: (message, details) => write('debug', message, details),
  info: (message, details) => write('info', message, details),
  warn: (message, details) => write('warn', message, details),
  error: (message, details) => write('error', message, details),
}

function write(level: string, message: string, details: Record<string, unknown> | undefined): void {
  console.log(JSON.stringify({ level, message, ...details, time: new Date().toISOString() }))
}
