/** Keeps the last `limit` characters of a program's output, for readiness checks and error messages. */
export class OutputTail {
  #text = ''

  constructor(private readonly limit = 8192) {}

  append(chunk: Buffer | string): void {
    this.#text = (this.#text + chunk.toString()).slice(-this.limit)
  }

  includes(text: string): boolean {
    return this.#text.includes(text)
  }

  /** The last lines, trimmed, for an error message. */
  toString(): string {
    return this.#text.trim().split('\n').slice(-8).join('\n')
  }
}
