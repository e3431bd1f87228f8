import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'

import {VerifiedCredentialsCache} from './cache.js'
import {normalizeCredentials, pairDigest, type Credentials} from './credentials.js'
import {verifyPassword} from './hash.js'

/** One request's credentials, ready to be checked: the digest at once, the hash only when asked. */
export interface CredentialCheck {
  /** An HMAC of the pair under a per-process key, never the password: equal pairs have equal digests. */
  readonly digest: string
  /** The answer when it needs no hashing (a cached success, or credentials held in memory), else undefined. */
  answerAtOnce(): boolean | undefined
  /** The full check, scrypt against the stored hash. */
  hash(): Promise<boolean>
}

export interface CredentialVerifier {
  check(candidate: Credentials): CredentialCheck
}

class PlainCheck implements CredentialCheck {
  readonly digest: string

  constructor(
    private readonly mac: Buffer,
    private readonly expected: Buffer,
  ) {
    this.digest = mac.toString('base64')
  }

  answerAtOnce(): boolean {
    return timingSafeEqual(this.mac, this.expected)
  }

  async hash(): Promise<boolean> {
    return this.answerAtOnce()
  }
}

/**
 * Verifies against credentials held in memory (given with -u/-p, the environment, stdin or a prompt).
 * Both sides are reduced to an HMAC under a random per-process key, so `timingSafeEqual` compares
 * equal-length digests: the time taken reveals neither the length nor a matching prefix of either
 * the user name or the password, and both are always checked together. No hashing, so every answer
 * is immediate.
 */
export function createPlainVerifier(expected: Credentials): CredentialVerifier {
  const key = randomBytes(32)
  const mac = (credentials: Credentials) => pairDigest(key, normalizeCredentials(credentials))
  const expectedMac = mac(expected)
  return {
    check: (candidate) => new PlainCheck(mac(candidate), expectedMac),
  }
}

export interface StoredCredentials {
  username: string
  passwordHash: string
}

class StoredHashCheck implements CredentialCheck {
  readonly digest: string

  constructor(
    private readonly verifier: StoredHashVerifier,
    private readonly credentials: Credentials,
  ) {
    this.digest = verifier.cache.digest(credentials)
  }

  answerAtOnce(): true | undefined {
    return this.verifier.cache.has(this.digest) || undefined
  }

  async hash(): Promise<boolean> {
    const verified = await this.verifier.matches(this.credentials)
    if (verified) this.verifier.cache.add(this.digest)
    return verified
  }
}

/**
 * Verifies against the stored scrypt hash, consulting the cache of verified pairs first.
 * The password is hashed against the stored hash whatever the user name: an unknown user costs
 * exactly what a wrong password costs (the stored hash serves as the dummy), and the user name
 * is compared in constant time too.
 */
class StoredHashVerifier implements CredentialVerifier {
  private readonly key = randomBytes(32)
  private readonly expectedUser: Buffer

  constructor(
    private readonly stored: StoredCredentials,
    readonly cache: VerifiedCredentialsCache,
  ) {
    this.expectedUser = this.userDigest(stored.username)
  }

  private userDigest(username: string): Buffer {
    return createHmac('sha256', this.key).update(username.normalize('NFC')).digest()
  }

  check(candidate: Credentials): CredentialCheck {
    return new StoredHashCheck(this, normalizeCredentials(candidate))
  }

  async matches(credentials: Credentials): Promise<boolean> {
    const userMatches = timingSafeEqual(this.userDigest(credentials.username), this.expectedUser)
    const passwordMatches = await verifyPassword(credentials.password, this.stored.passwordHash)
    return userMatches && passwordMatches
  }
}

/** A verifier for the stored hash, with `cache` holding the pairs it verified. */
export function createHashedVerifier(
  stored: StoredCredentials,
  cache = new VerifiedCredentialsCache(),
): CredentialVerifier {
  return new StoredHashVerifier(stored, cache)
}
