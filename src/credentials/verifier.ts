import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'

import {VerifiedCredentialsCache} from './cache.js'
import {ConcurrencyLimiter} from './limiter.js'
import {normalizeCredentials, type Credentials} from './credentials.js'
import {verifyPassword} from './hash.js'

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

export interface StoredCredentials {
  username: string
  passwordHash: string
}

/**
 * Verifies against the stored scrypt hash, consulting the cache of verified pairs first.
 * The password is hashed against the stored hash whatever the user name: an unknown user costs
 * exactly what a wrong password costs (the stored hash serves as the dummy), and the user name
 * is compared in constant time too.
 */
export function createHashedVerifier(
  stored: StoredCredentials,
  cache = new VerifiedCredentialsCache(),
  limiter = new ConcurrencyLimiter(),
): CredentialVerifier {
  const key = randomBytes(32)
  const digest = (username: string) => createHmac('sha256', key).update(username.normalize('NFC')).digest()
  const expectedUser = digest(stored.username)
  return {
    async verify(candidate) {
      const credentials = normalizeCredentials(candidate)
      if (cache.has(credentials)) return true
      const userMatches = timingSafeEqual(digest(credentials.username), expectedUser)
      const passwordMatches = await limiter.run(() =>
        verifyPassword(credentials.password, stored.passwordHash),
      )
      const verified = userMatches && passwordMatches
      if (verified) cache.add(credentials)
      return verified
    },
  }
}
