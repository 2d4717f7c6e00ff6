import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager'
import type { SSMClientConfig } from '@aws-sdk/client-ssm'
import {
  type LocalAws,
  type LocalAwsCall,
  type LocalAwsFault,
  type SeedParameter,
  startLocalAws,
} from '@warmstart/testing'
import { describe, expectTypeOf, it } from 'vitest'

describe('startLocalAws types', () => {
  it('resolves to a LocalAws and takes typed seeds', () => {
    expectTypeOf(startLocalAws).returns.toEqualTypeOf<Promise<LocalAws>>()
    expectTypeOf(startLocalAws).parameter(0).toMatchTypeOf<
      | {
          parameters?: Record<string, string | SeedParameter>
          secrets?: Record<string, string | Uint8Array>
        }
      | undefined
    >()
    expectTypeOf<SeedParameter['type']>().toEqualTypeOf<
      'String' | 'StringList' | 'SecureString' | undefined
    >()
  })

  it('gives a client config the real SDK clients accept', () => {
    expectTypeOf<LocalAws['clientConfig']>().toMatchTypeOf<SSMClientConfig>()
    expectTypeOf<LocalAws['clientConfig']>().toMatchTypeOf<SecretsManagerClientConfig>()
    expectTypeOf<LocalAws['env']>().toEqualTypeOf<Readonly<Record<string, string>>>()
  })

  it('types calls, faults and the seeding methods', () => {
    expectTypeOf<LocalAws['calls']>().toEqualTypeOf<readonly LocalAwsCall[]>()
    expectTypeOf<LocalAwsCall['service']>().toEqualTypeOf<'ssm' | 'secretsmanager'>()
    expectTypeOf<LocalAwsFault['kind']>().toEqualTypeOf<
      'throttle' | 'server-error' | 'latency' | 'hang' | 'drop' | 'respond'
    >()
    expectTypeOf<LocalAws['putParameter']>().returns.toEqualTypeOf<number>()
    expectTypeOf<LocalAws['rotateSecret']>().parameters.toEqualTypeOf<[string, string | Uint8Array]>()
    expectTypeOf<LocalAws['stop']>().returns.toEqualTypeOf<Promise<void>>()
    // @ts-expect-error: an unknown fault kind is a type error
    const fault: LocalAwsFault = { kind: 'explode' }
    void fault
  })
})
