import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'

import {normalizeCredentials, type Credentials} from './credentials.js'

export interface CredentialVerifier {
  verify(candidate: Credentials): Promise<boolean>
}

/**
 * Verifies against credentials held in memory (given with -u/-p, the environment, stdin or a prompt).
 * Both sides are reduced to an HMAC under a random per-process key, so `timingSafeEqual` compares
 * equal-length digests: the time taken reveals neither the length nor a matching prefix of either
 * the user name or the password, and both are always checked together.
 */
export function createPlainVerifier(expected: Credentials): CredentialVerifier {
  const key = randomBytes(32)
  const digest = (credentials: Credentials) => {
    const {username, password} = normalizeCredentials(credentials)
    return createHmac('sha256', key)
      .update(JSON.stringify([username, password]))
      .digest()
  }
  const expectedDigest = digest(expected)
  return {
    async verify(candidate) {
      return timingSafeEqual(digest(candidate), expectedDigest)
    },
  }
}
