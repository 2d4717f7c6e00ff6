import { defineConfig } from 'tsup'

export default defineConfig({
  // One entry per service besides the main one: the declarations of '@warmstart/params/ssm' do not
  // name the Secrets Manager SDK, and the other way round, so a function installs only the SDK it uses.
  // The SDK paths have entries of their own, the only ones that import an SDK: a bundle of the
  // default path carries none.
  entry: {
    index: 'src/index.ts',
    ssm: 'src/ssm.ts',
    'secrets-manager': 'src/secrets-manager.ts',
    'ssm-sdk': 'src/ssm-sdk.ts',
    'secrets-manager-sdk': 'src/secrets-manager-sdk.ts',
  },
  // Entries share their modules through chunks in both formats: a CommonJS entry with its own copy
  // of a class fails `instanceof` for an error another entry threw (tsup splits only ESM by default).
  splitting: true,
  // The CommonJS build loads the optional AWS SDK peers with require(), like the rest of a CommonJS
  // program, so that the provider and the caller's own client share one copy of the SDK.
  esbuildOptions(options, context) {
    if (context.format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false }
  },
})
