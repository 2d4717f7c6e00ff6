import { defineConfig } from 'tsup'

export default defineConfig({
  // The CommonJS build loads the optional AWS SDK peers with require(), like the rest of a CommonJS
  // program, so that the provider and the caller's own client share one copy of the SDK.
  esbuildOptions(options, context) {
    if (context.format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false }
  },
})
