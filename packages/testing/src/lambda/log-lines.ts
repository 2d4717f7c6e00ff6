import { LOG_END_MARK, LOG_TAG, LOG_TAG_END } from './protocol.js'

/** Runner side: the text of one console call, each line tagged with the invocation it belongs to. */
export function taggedLines(text: string, requestId: string | undefined): string {
  if (requestId === undefined) return `${text}\n`
  return text
    .split('\n')
    .map((line) => `${LOG_TAG}${requestId}${LOG_TAG_END}${line}\n`)
    .join('')
}

/** Runner side: the line that says an invocation has printed everything on this stream. */
export function endMark(requestId: string): string {
  return `${LOG_END_MARK}${requestId}\n`
}

/** One parsed output line: text printed (tagged with its request id when known), or an end mark. */
export type LogLine = { kind: 'text'; text: string; requestId?: string } | { kind: 'end'; requestId: string }

/**
 * Parent side: splits a child's output stream into lines as chunks arrive. A partial line waits
 * for the rest; an end mark may follow a partial line printed without a newline.
 */
export class LogLineSplitter {
  private partial = ''

  constructor(private readonly onLine: (line: LogLine) => void) {}

  push(chunk: string): void {
    const lines = (this.partial + chunk).split('\n')
    this.partial = lines.pop()!
    for (const line of lines) this.parse(line)
  }

  /** The stream closed: a last line without a newline still counts. */
  flush(): void {
    if (this.partial !== '') this.parse(this.partial)
    this.partial = ''
  }

  private parse(line: string): void {
    const end = line.indexOf(LOG_END_MARK)
    if (end >= 0) {
      if (end > 0) this.onLine({ kind: 'text', text: line.slice(0, end) })
      this.onLine({ kind: 'end', requestId: line.slice(end + 1) })
      return
    }
    const tagEnd = line.indexOf(LOG_TAG_END)
    if (line.startsWith(LOG_TAG) && tagEnd > 0) {
      this.onLine({ kind: 'text', text: line.slice(tagEnd + 1), requestId: line.slice(1, tagEnd) })
      return
    }
    this.onLine({ kind: 'text', text: line })
  }
}
