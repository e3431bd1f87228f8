import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'

import {VerifiedCredentialsCache} from './cache.js'
import {normalizeCredentials, pairDigest, type Credentials} from './credentials.js'
import {dummyPasswordHash, verifyPassword} from './hash.js'

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

/** One user's stored credentials, as config.json holds them. */
export interface StoredCredentials {
  name: string
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
 * Verifies against the stored scrypt hashes, consulting the cache of verified pairs first.
 * Every check costs exactly one scrypt: a known user's password against their hash, an unknown
 * user's against a dummy hash with the first user's parameters, so the time taken does not tell
 * which names exist. Users are looked up by an HMAC of the name under a per-process key: the
 * lookup's timing depends on digests an attacker cannot predict, never on the name's bytes.
 */
class StoredHashVerifier implements CredentialVerifier {
  private readonly key = randomBytes(32)
  private readonly hashes: Map<string, string>
  private readonly dummyHash: string

  constructor(
    users: readonly StoredCredentials[],
    readonly cache: VerifiedCredentialsCache,
  ) {
    const [first] = users
    if (first === undefined) throw new Error('A stored-hash verifier needs at least one user.')
    this.hashes = new Map(users.map((user) => [this.userDigest(user.name), user.passwordHash]))
    this.dummyHash = dummyPasswordHash(first.passwordHash)
  }

  private userDigest(username: string): string {
    return createHmac('sha256', this.key).update(username.normalize('NFC')).digest('base64')
  }

  check(candidate: Credentials): CredentialCheck {
    return new StoredHashCheck(this, normalizeCredentials(candidate))
  }

  async matches(credentials: Credentials): Promise<boolean> {
    const stored = this.hashes.get(this.userDigest(credentials.username))
    const passwordMatches = await verifyPassword(credentials.password, stored ?? this.dummyHash)
    return stored !== undefined && passwordMatches
  }
}

/**
 * A verifier for the stored users' hashes, with `cache` holding the pairs it verified. A new
 * verifier (a reload) starts with a new cache unless one is passed: a removed user's or an old
 * password's cached success is then forgotten at once.
 */
export function createHashedVerifier(
  users: readonly StoredCredentials[],
  cache = new VerifiedCredentialsCache(),
): CredentialVerifier {
  return new StoredHashVerifier(users, cache)
}
