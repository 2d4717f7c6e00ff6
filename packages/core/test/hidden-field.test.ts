import { inspect } from 'node:util'
import { hiddenField } from '@warmstart/core/internal'
import { describe, expect, it } from 'vitest'

describe('hiddenField', () => {
  it('keeps a value on an object where no reflection sees it', () => {
    const field = hiddenField<{ id: number }>()
    const target = { a: 1 }
    expect(field.read(target)).toBeUndefined()
    field.write(target, { id: 1 })
    expect(field.read(target)).toEqual({ id: 1 })
    field.write(target, { id: 2 })
    expect(field.read(target)).toEqual({ id: 2 })
    expect(Object.keys(target)).toEqual(['a'])
    expect(Reflect.ownKeys(target)).toEqual(['a'])
    expect(JSON.stringify(target)).toBe('{"a":1}')
    expect(inspect(target, { showHidden: true })).toBe('{ a: 1 }')
    expect(field.read({ ...target })).toBeUndefined()
  })

  it('keeps separate values per field and falls back to a weak map for objects that cannot be extended', () => {
    const first = hiddenField<string>()
    const second = hiddenField<string>()
    const frozen = Object.freeze({})
    const sealed = Object.seal({})
    first.write(frozen, 'f')
    first.write(sealed, 's')
    expect(first.read(frozen)).toBe('f')
    expect(first.read(sealed)).toBe('s')
    expect(second.read(frozen)).toBeUndefined()
    first.write(frozen, 'f2')
    expect(first.read(frozen)).toBe('f2')
  })
})
