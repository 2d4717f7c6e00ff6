import { invalidOption } from '@warmstart/core/internal'
import type { Ttl } from './ttl.js'

/**
 * Defaults taken from Powertools' environment variables, so that a function moving from
 * Powertools Parameters keeps its configured behaviour. Options given in code win.
 * - POWERTOOLS_PARAMETERS_MAX_AGE: the default TTL, in seconds.
 * - POWERTOOLS_PARAMETERS_SSM_DECRYPT: 'true' | 'false', the default of `decrypt` for SSM.
 */
export function powertoolsDefaults(env: NodeJS.ProcessEnv = process.env): { ttl?: Ttl; decrypt?: boolean } {
  const defaults: { ttl?: Ttl; decrypt?: boolean } = {}
  const maxAge = env.POWERTOOLS_PARAMETERS_MAX_AGE?.trim()
  if (maxAge !== undefined && maxAge !== '') {
    const seconds = Number(maxAge)
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw invalidOption('environment', 'POWERTOOLS_PARAMETERS_MAX_AGE', 'must be a number of seconds >= 0')
    }
    defaults.ttl = seconds * 1000
  }
  const decrypt = env.POWERTOOLS_PARAMETERS_SSM_DECRYPT?.trim().toLowerCase()
  if (decrypt !== undefined && decrypt !== '') {
    if (decrypt !== 'true' && decrypt !== 'false') {
      throw invalidOption('environment', 'POWERTOOLS_PARAMETERS_SSM_DECRYPT', "must be 'true' or 'false'")
    }
    defaults.decrypt = decrypt === 'true'
  }
  return defaults
}
