import {randomBytes} from 'node:crypto'

import {pairDigest, type Credentials} from './credentials.js'

export interface CacheOptions {
  /** How long a verified pair is trusted without hashing again. */
  ttlMs?: number
  /** How many verified pairs are kept at most (the oldest go first). */
  maxEntries?: number
  now?: () => number
}

/**
 * Remembers credentials that were verified, so a browser's many requests cost one scrypt, not one
 * each. Only successes are stored, and only as an HMAC under a key that lives in this process:
 * the cache never holds a password, and what it holds is useless outside this process.
 */
export class VerifiedCredentialsCache {
  private readonly key = randomBytes(32)
  private readonly entries = new Map<string, number>()
  private readonly ttlMs: number
  private readonly maxEntries: number
  private readonly now: () => number

  constructor(options: CacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000
    this.maxEntries = options.maxEntries ?? 64
    this.now = options.now ?? Date.now
  }

  /**
   * The key a pair is held under: computed once per request, then used for the lookup, the insertion
   * and to recognise parallel requests with the same pair, so none of those needs the password.
   */
  digest(credentials: Credentials): string {
    return pairDigest(this.key, credentials).toString('base64')
  }

  has(digest: string): boolean {
    const expires = this.entries.get(digest)
    if (expires === undefined) return false
    if (expires <= this.now()) {
      this.entries.delete(digest)
      return false
    }
    return true
  }

  add(digest: string): void {
    this.entries.delete(digest)
    this.entries.set(digest, this.now() + this.ttlMs)
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
  }

  clear(): void {
    this.entries.clear()
  }

  get size(): number {
    return this.entries.size
  }
}
