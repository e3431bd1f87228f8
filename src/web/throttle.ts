import {isIPv4, isIPv6} from 'node:net'

import {settingDefaults} from '../config/stored-settings.js'
import {FairScheduler} from '../credentials/limiter.js'
import type {CredentialCheck} from '../credentials/verifier.js'

export interface ThrottleOptions {
  /** Failed logins from one client, within `windowMs`, that trigger a lockout. */
  maxFailures: number
  windowMs: number
  /** The first lockout; each further one doubles, up to `maxLockoutMs`. */
  lockoutMs: number
  maxLockoutMs: number
  /** Clients tracked at most (see `LoginThrottle` for which are forgotten to make room). */
  maxClients: number
  /** Password hashes computed at once (32 MiB and a third of a second of CPU each). */
  hashingSlots: number
  /** Checks with other credentials that may wait behind a client's check in progress. */
  waitingPerClient: number
  /** Clients with checks waiting or running, at most (see `LoginThrottle`). */
  maxClientsHashing: number
  now: () => number
}

export const defaultThrottle: ThrottleOptions = {
  maxFailures: settingDefaults['max-failures'],
  windowMs: settingDefaults['failure-window'] * 1000,
  lockoutMs: settingDefaults.lockout * 1000,
  maxLockoutMs: 15 * 60_000,
  maxClients: 10_000,
  hashingSlots: 2,
  waitingPerClient: 1,
  maxClientsHashing: 256,
  now: Date.now,
}

/** A check that waits for hashing, with every request that shares it. */
interface PendingCheck {
  readonly check: CredentialCheck
  readonly result: Promise<LoginResult>
  answer(result: LoginResult): void
  fail(error: unknown): void
  started: boolean
}

interface Client {
  failures: number
  firstFailure: number
  lastFailure: number
  /** Lockouts so far; each doubles the next. Forgotten after a window without failures. */
  strikes: number
  lockedUntil: number
  /** The check in turn (waiting in the scheduler or running) first, then the ones waiting behind it. */
  checks: PendingCheck[]
}

interface Counted {
  /** Failures counted against this client in the current window (0 once it is locked out). */
  failures: number
  /** Set when this failure locked the client out. */
  lockedForSeconds: number | undefined
}

/**
 * `locked-out`: this client failed too often (429). `no-room`: a new client, and every tracked
 * client is locked out or being checked, so there is no room to count its failures (503).
 * `hashing-full`: a new check while too many clients wait for hashing (503, not counted).
 * `busy`: the client already has as many checks waiting as it may (503, counted as a failure).
 */
export type LoginResult =
  | {verdict: 'locked-out' | 'no-room' | 'hashing-full'; retryAfterSeconds: number}
  | ({verdict: 'busy'; retryAfterSeconds: number} & Counted)
  | ({verdict: 'rejected'} & Counted)
  | {verdict: 'verified'}

export type Admission =
  | {verdict: 'locked-out' | 'no-room'; retryAfterSeconds: number}
  | {
      verdict: 'admitted'
      /** The result at once when no hashing is needed (a cached success, a refusal), else a promise. */
      check(check: CredentialCheck): LoginResult | Promise<LoginResult>
    }

/**
 * Who a request counts against: an IPv4 address, or an IPv6 /64 (one home or phone gets a whole
 * /64, so single IPv6 addresses would be free to rotate). IPv4-mapped IPv6 addresses are IPv4.
 */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]!
  if (isIPv4(address)) return address
  if (!isIPv6(address)) return address
  const [head = '', tail = ''] = address.toLowerCase().split('::')
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  const groups = address.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`
}

/**
 * Counts failed logins per client (successes and requests without credentials are never counted)
 * and locks a client out for a while once it has too many: then every request with credentials is
 * refused, the right password too, so that 200-versus-429 cannot reveal a correct guess. Lockouts
 * grow with continued failures but never become permanent.
 *
 * It also schedules the checks that need hashing, fairly: each client has at most one check in turn
 * for a hashing slot, and the slots go to clients in turn (`FairScheduler`), so a flood from many
 * addresses delays a new client's first login by one check per address at most, and never refuses
 * it for a queue that others filled. A client's parallel requests with the same credentials share one
 * check and count once; other credentials wait behind it, `waitingPerClient` of them, and a request
 * beyond that is refused and counted as a failure: an address that keeps sending credentials that
 * are never checked is locked out like one that fails them. A lockout answers the client's waiting
 * checks with 429 at once, without hashing them, and a check still running is answered 429 too.
 *
 * A client's checks run one after another, so parallel guesses cannot slip past the limit that
 * sequential ones hit. A request that can be answered at once (a cached success) is answered at once,
 * without waiting for anything, unless the client's pending checks could take it over the limit:
 * then it waits its turn like any other, before the cache is consulted, so waiting or not reveals
 * nothing either.
 *
 * Memory is bounded by `maxClients` and, for waiting checks, `maxClientsHashing` ×
 * (1 + `waitingPerClient`). A new check while `maxClientsHashing` clients have checks pending is
 * refused without counting a failure: that client did nothing wrong, and counting would let a flood
 * lock out the rightful user. To make room for a new client the table forgets, least recently seen
 * first, a client whose failures have expired, else one with failures below the limit; never one
 * that is locked out, whose earlier lockouts still count, or that has a check pending. Forgetting
 * those would let a guesser rotating addresses (the /64s of its /48) wipe its own lockouts. When
 * only such clients are left, a new client is refused (`no-room`) rather than a lockout forgotten.
 */
export class LoginThrottle {
  private readonly options: ThrottleOptions
  private readonly clients = new Map<string, Client>()
  private readonly scheduler: FairScheduler
  private clientsHashing = 0

  constructor(options: Partial<ThrottleOptions> = {}) {
    this.options = {...defaultThrottle, ...options}
    this.scheduler = new FairScheduler(this.options.hashingSlots)
  }

  get trackedClients(): number {
    return this.clients.size
  }

  /** The client's entry, now the most recently seen; undefined for a new client when there is no room. */
  private client(key: string, now: number): Client | undefined {
    let client = this.clients.get(key)
    if (client) this.clients.delete(key)
    else {
      if (!this.makeRoom(now)) return undefined
      client = {failures: 0, firstFailure: 0, lastFailure: 0, strikes: 0, lockedUntil: 0, checks: []}
    }
    this.clients.set(key, client)
    return client
  }

  /** Forgets one client if the table is full (the Map iterates least recently seen first); false if none may go. */
  private makeRoom(now: number): boolean {
    if (this.clients.size < this.options.maxClients) return true
    let withFailures: string | undefined
    for (const [key, client] of this.clients) {
      if (client.checks.length > 0) continue
      this.expire(client, now)
      if (client.strikes > 0 || client.lockedUntil > now) continue
      if (client.failures === 0) return this.clients.delete(key)
      withFailures ??= key
    }
    return withFailures !== undefined && this.clients.delete(withFailures)
  }

  /** When a client that may not be forgotten now will be: its lockout over and its strikes expired. */
  private retryAfterNoRoom(now: number): number {
    let soonest = Infinity
    for (const client of this.clients.values()) {
      const forgettableAt =
        client.checks.length > 0
          ? now
          : Math.max(client.lockedUntil, client.lastFailure + this.options.windowMs + 1)
      soonest = Math.min(soonest, forgettableAt)
    }
    return Math.max(1, Math.ceil((soonest - now) / 1000))
  }

  private expire(client: Client, now: number): void {
    if (client.lockedUntil <= now && now - client.lastFailure > this.options.windowMs) {
      client.failures = 0
      client.strikes = 0
    } else if (now - client.firstFailure > this.options.windowMs) {
      client.failures = 0
    }
  }

  private forgetIfIdle(key: string, client: Client): void {
    const now = this.options.now()
    if (
      client.checks.length === 0 &&
      client.failures === 0 &&
      client.strikes === 0 &&
      client.lockedUntil <= now
    ) {
      this.clients.delete(key)
    }
  }

  private lockedOut(client: Client, now: number): LoginResult & Admission {
    return {verdict: 'locked-out', retryAfterSeconds: Math.ceil((client.lockedUntil - now) / 1000)}
  }

  /**
   * Decides, before any credential check, whether a request with credentials from `key` may be
   * checked; synchronous, so a request that needs no hashing never waits for anything.
   */
  admit(key: string): Admission {
    const now = this.options.now()
    const client = this.client(key, now)
    if (!client) return {verdict: 'no-room', retryAfterSeconds: this.retryAfterNoRoom(now)}
    this.expire(client, now)
    if (client.lockedUntil > now) return this.lockedOut(client, now)
    return {verdict: 'admitted', check: (check) => this.check(key, client, check)}
  }

  private check(key: string, client: Client, check: CredentialCheck): LoginResult | Promise<LoginResult> {
    const {checks} = client
    // Digests are HMACs under a per-process key: comparing them with === reveals nothing usable.
    const same = checks.find((pending) => pending.check.digest === check.digest)
    if (same) return same.result
    if (checks.length === 0 || client.failures + checks.length < this.options.maxFailures) {
      const answer = check.answerAtOnce()
      if (answer !== undefined) return this.settle(key, client, answer)
    }
    if (checks.length > this.options.waitingPerClient) {
      const counted = this.count(key, client, 'failure')
      return {verdict: 'busy', retryAfterSeconds: counted.lockedForSeconds ?? 1, ...counted}
    }
    if (checks.length === 0 && this.clientsHashing >= this.options.maxClientsHashing) {
      this.forgetIfIdle(key, client)
      return {verdict: 'hashing-full', retryAfterSeconds: 1}
    }
    const pending = pendingCheck(check)
    checks.push(pending)
    if (checks.length === 1) {
      this.clientsHashing++
      this.scheduler.enqueue(key, () => this.run(key, client))
    }
    return pending.result
  }

  /** Runs the client's check in turn, answers everyone waiting for it, and queues its next check. */
  private async run(key: string, client: Client): Promise<void> {
    const pending = client.checks[0]!
    pending.started = true
    try {
      const verified = pending.check.answerAtOnce() ?? (await pending.check.hash())
      const now = this.options.now()
      this.expire(client, now)
      // Locked out while it ran (by requests refused as busy): the client learns nothing from it.
      pending.answer(
        client.lockedUntil > now ? this.lockedOut(client, now) : this.settle(key, client, verified),
      )
    } catch (error) {
      pending.fail(error)
    }
    client.checks.shift()
    if (client.checks.length > 0) this.scheduler.enqueue(key, () => this.run(key, client))
    else {
      this.clientsHashing--
      this.forgetIfIdle(key, client)
    }
  }

  private settle(key: string, client: Client, verified: boolean): LoginResult {
    if (verified) {
      this.count(key, client, 'success')
      return {verdict: 'verified'}
    }
    return {verdict: 'rejected', ...this.count(key, client, 'failure')}
  }

  private count(key: string, client: Client, outcome: 'success' | 'failure'): Counted {
    const now = this.options.now()
    let lockedForSeconds: number | undefined
    if (outcome === 'success') {
      client.failures = 0
      client.strikes = 0
    } else {
      if (client.failures === 0) client.firstFailure = now
      client.failures++
      client.lastFailure = now
      if (client.failures >= this.options.maxFailures) {
        const lockout = Math.min(this.options.maxLockoutMs, this.options.lockoutMs * 2 ** client.strikes)
        client.strikes++
        client.lockedUntil = now + lockout
        client.failures = 0
        lockedForSeconds = Math.ceil(lockout / 1000)
        this.answerWaiting(key, client, now)
      }
    }
    const failures = client.failures
    this.forgetIfIdle(key, client)
    return {failures, lockedForSeconds}
  }

  /** A client was locked out: its checks not yet started are answered 429 now, never hashed. */
  private answerWaiting(key: string, client: Client, now: number): void {
    const running = client.checks[0]?.started ? 1 : 0
    const waiting = client.checks.splice(running)
    if (running === 0 && waiting.length > 0) {
      this.scheduler.withdraw(key)
      this.clientsHashing--
    }
    const result = this.lockedOut(client, now)
    for (const pending of waiting) pending.answer(result)
  }
}

function pendingCheck(check: CredentialCheck): PendingCheck {
  let answer!: (result: LoginResult) => void
  let fail!: (error: unknown) => void
  const result = new Promise<LoginResult>((resolve, reject) => {
    answer = resolve
    fail = reject
  })
  return {check, result, answer, fail, started: false}
}
