// Every package's public entry, type-checked with skipLibCheck false: what a user's tsc reads.
import { lazy } from '@warmstart/client'
import { parseDuration } from '@warmstart/core'
import { leakGuard } from '@warmstart/leak-guard'
import { onShutdown } from '@warmstart/lifecycle'
import { boundedLru } from '@warmstart/lru'
import { secretsManager, ssmParameters, ttlCache } from '@warmstart/params'
import { pgConnection } from '@warmstart/pg'
import { fakeClock } from '@warmstart/testing/clock'
import { lambdaContext } from '@warmstart/testing/doubles'
import { simulateLambda } from '@warmstart/testing/lambda'
import { startLocalAws } from '@warmstart/testing/local-aws'
import { startPostgres } from '@warmstart/testing/postgres'
import { tmpCache } from '@warmstart/tmp-cache'

export const used = [
  lazy,
  parseDuration,
  leakGuard,
  onShutdown,
  boundedLru,
  secretsManager,
  ssmParameters,
  ttlCache,
  pgConnection,
  fakeClock,
  lambdaContext,
  simulateLambda,
  startLocalAws,
  startPostgres,
  tmpCache,
]
