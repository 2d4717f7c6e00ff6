import { afterEach, describe, expect, it } from 'vitest'
import { withLambdaDefaults } from '../src/lambda-defaults.js'

const savedRegion = process.env.AWS_REGION
afterEach(() => {
  if (savedRegion === undefined) delete process.env.AWS_REGION
  else process.env.AWS_REGION = savedRegion
})

describe('withLambdaDefaults', () => {
  it('leaves out the region when AWS_REGION is not set', () => {
    delete process.env.AWS_REGION
    expect(withLambdaDefaults({})).toEqual({
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
    })
  })

  it('completes handler options without a prototype, and leaves anything else alone', () => {
    const bare = Object.assign(Object.create(null) as object, { requestTimeout: 500 })
    expect(withLambdaDefaults({ requestHandler: bare }).requestHandler).toEqual({
      connectionTimeout: 1000,
      requestTimeout: 500,
      throwOnRequestTimeout: true,
    })
    const handlerFunction = () => {}
    expect(withLambdaDefaults({ requestHandler: handlerFunction }).requestHandler).toBe(handlerFunction)
    expect(withLambdaDefaults({ requestHandler: null }).requestHandler).toBeNull()
  })
})
