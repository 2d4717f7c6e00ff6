import { describe, expect, it } from 'vitest'
import { FIXED_HEADER_BYTES, isAbandonedTemp, parseHeader, TEMP_NAME } from '../src/entry-file.js'

function header(keyLength: number, dataLength: bigint): Buffer {
  const bytes = Buffer.alloc(FIXED_HEADER_BYTES + 4)
  bytes.write('WSC2', 0)
  bytes.writeUInt32BE(keyLength, 4)
  bytes.writeBigUInt64BE(dataLength, 16)
  return bytes
}

describe('parseHeader', () => {
  it('reads a well-formed header', () => {
    expect(parseHeader(header(4, 10n))).toMatchObject({ dataLength: 10, headerBytes: FIXED_HEADER_BYTES + 4 })
  })

  it.each([
    ['a short buffer', Buffer.alloc(10)],
    ['a wrong magic', Buffer.alloc(FIXED_HEADER_BYTES + 4)],
    ['a key longer than allowed', header(9000, 1n)],
    ['a key past the end of the bytes', header(40, 1n)],
    ['a data length no file can have', header(4, 2n ** 60n)],
  ])('rejects %s', (_, bytes) => {
    expect(parseHeader(bytes)).toBeUndefined()
  })
})

describe('isAbandonedTemp', () => {
  const name = (pid: number) => TEMP_NAME.exec(`${'a'.repeat(64)}.${pid}-1-0-ff.tmp`)!
  it('gives up on a temp file untouched for longer than any invocation, even of a live writer', () => {
    const now = Date.now()
    expect(isAbandonedTemp(name(process.ppid), now, now)).toBe(false)
    expect(isAbandonedTemp(name(process.ppid), now - 16 * 60_000, now)).toBe(true)
  })
})
