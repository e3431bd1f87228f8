import {isIPv4} from 'node:net'

import {settingDefaults} from '../config/stored-settings.js'
import {FairScheduler} from '../credentials/limiter.js'
import type {CredentialCheck} from '../credentials/verifier.js'
import {interfacePrefixes} from '../net/hosts.js'
import {inIpv6Prefix, ipv6PrefixOf, parseIpv6, parseIpv6Prefix, type Ipv6Prefix} from '../net/ipv6.js'

export interface ThrottleOptions {
  /** Failed logins from one client, within `windowMs`, that trigger a lockout. */
  maxFailures: number
  /**
   * The budget of a LAN prefix, in clients: its addresses together may fail `devicesPerPrefix` ×
   * `maxFailures` times within `windowMs` (20 by default) before the whole prefix is locked out.
   * Four devices (phones, a tablet, a laptop) may each fail up to a lockout of their own, more than
   * a family mistyping reaches in 15 minutes, while a guesser rotating through the prefix's 2^64
   * addresses gets 20 guesses a window instead of 5 per address, and its lockouts double like a client's.
   */
  devicesPerPrefix: number
  /** The server's own IPv6 prefixes (CIDR): addresses in them and link-local ones count each on its own. */
  ownPrefixes: () => string[]
  /** How long `ownPrefixes` is kept before it is read again, so that a new LAN prefix is noticed. */
  ownPrefixesMs: number
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
  devicesPerPrefix: 4,
  ownPrefixes: interfacePrefixes,
  ownPrefixesMs: 5_000,
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

/** Failures counted against a client or a LAN prefix, and its lockouts. */
interface Tally {
  failures: number
  firstFailure: number
  lastFailure: number
  /** Lockouts so far; each doubles the next. Forgotten after a window without failures. */
  strikes: number
  /** Failures since the strikes were last forgotten (or a success): what the lockouts were earned with, and what orders a client's hashing. */
  failuresSinceStrikes: number
  /** When the latest lockout began. */
  lockedAt: number
  lockedUntil: number
}

/** A tally with nothing counted: a new client's or prefix's, or one that was unlocked. */
function cleanTally(): Tally {
  return {
    failures: 0,
    firstFailure: 0,
    lastFailure: 0,
    strikes: 0,
    failuresSinceStrikes: 0,
    lockedAt: 0,
    lockedUntil: 0,
  }
}

interface Client extends Tally {
  /** The check in turn (waiting in the scheduler or running) first, then the ones waiting behind it. */
  checks: PendingCheck[]
  /** For an address of the server's LAN, the prefix (CIDR) whose budget it shares, as of its last request. */
  prefix: string | undefined
}

interface Counted {
  /** Failures counted against this client in the current window (0 once it is locked out). */
  failures: number
  /** Set when this failure locked the client out. */
  lockedForSeconds: number | undefined
  /** For an address of the server's LAN: what its prefix's budget holds now. */
  prefix: PrefixCount | undefined
}

export interface PrefixCount {
  cidr: string
  /** Failures from all of the prefix's addresses in the current window (0 once it is locked out). */
  failures: number
  /** Set when this failure locked the whole prefix out. */
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

/** Who a request counts against: the key of its entry, and for an address of the server's LAN, its prefix's. */
export interface ThrottledClient {
  key: string
  prefix: string | undefined
}

const linkLocal = parseIpv6Prefix('fe80::/10')!

/** A client or LAN prefix locked out now, as `homeauth status --clients` shows it. */
export interface Lockout {
  /** Its key (see `throttledClient`): an IPv4 address, an IPv6 address of the LAN, an IPv6 /64, or a LAN prefix. */
  client: string
  kind: 'address' | 'network' | 'lan-prefix'
  lockedAt: number
  lockedUntil: number
  /** Failures since its lockouts began: a success or a window without failures forgets them. */
  failures: number
  /** Lockouts in a row, this one included; each doubled the one before. */
  lockouts: number
}

/** What `unlock` did. */
export interface Unlocked {
  /** The key the target maps to (see `throttledClient`). */
  client: string
  /** Whether it was locked out: then it is no longer, its failures and strikes forgotten. */
  unlocked: boolean
  /** The LAN prefix of the address, when that prefix is locked out as a whole and so still refuses it. */
  lockedPrefix: string | undefined
}

/**
 * `value` as `unlock` takes it, written as `throttledClient` and `lockouts` write it: an IPv4 address
 * (IPv4-mapped ones unwrapped), an IPv6 address, or an IPv6 prefix (CIDR); undefined for anything else.
 */
export function parseClientTarget(value: string): string | undefined {
  if (isIPv4(value)) return value
  if (value.includes('/')) return parseIpv6Prefix(value)?.cidr
  const ipv6 = parseIpv6(value)
  if (ipv6?.isIPv4MappedAddress()) return ipv6.toIPv4Address().toString()
  return ipv6?.toRFC5952String()
}

/**
 * Who a request from `address` counts against. An IPv4 address is a client (IPv4-mapped IPv6
 * addresses are IPv4), and so is an IPv6 address in one of `lanPrefixes` (the server's own, and
 * link-local): every device of a home shares its /64, so one child mistyping must not lock out the
 * family; the prefix's budget bounds a guesser that rotates through it. Any other IPv6 address
 * counts as its /64: an ISP gives one home or phone a whole /64, so single addresses would be free
 * to rotate. The longest matching prefix wins.
 */
export function throttledClient(
  address: string | undefined,
  lanPrefixes: readonly Ipv6Prefix[],
): ThrottledClient {
  if (!address) return {key: 'unknown', prefix: undefined}
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return {key: mapped[1]!, prefix: undefined}
  const ipv6 = isIPv4(address) ? undefined : parseIpv6(address)
  if (!ipv6) return {key: address, prefix: undefined}
  let lan: Ipv6Prefix | undefined
  for (const prefix of lanPrefixes)
    if (prefix.length > (lan?.length ?? -1) && inIpv6Prefix(ipv6, prefix)) lan = prefix
  if (lan) return {key: ipv6.toRFC5952String(), prefix: lan.cidr}
  return {key: ipv6PrefixOf(ipv6, 64).cidr, prefix: undefined}
}

/**
 * Counts failed logins per client (successes and requests without credentials are never counted)
 * and locks a client out for a while once it has too many: then every request with credentials is
 * refused, the right password too, so that 200-versus-429 cannot reveal a correct guess. Lockouts
 * grow with continued failures but never become permanent.
 *
 * An address of the server's own LAN (see `throttledClient`) is a client of its own, and its failures
 * also count against its prefix's budget; once that is spent, the whole prefix is locked out in the
 * same way, its addresses' checks still waiting are answered 429 without hashing when their turn
 * comes, and any check still running is answered 429 too. A success resets its address, never the
 * prefix: one member's valid login must not buy a guesser beside it more guesses.
 *
 * It also schedules the checks that need hashing: each client has at most one check in turn for a
 * hashing slot, and a free slot goes to the waiting client with the fewest failures, the earliest
 * among equals (`FairScheduler`). The failures are those since the client's last success or quiet
 * window (`failuresSinceStrikes`), as they stand when the slot frees: a guesser whose lockout has
 * ended keeps them, and one refused as busy while it waits falls behind. So a client that has never
 * failed waits only for the checks running and for clients that had not failed either and came
 * first, one check each at most (in the first seconds of a flood from new addresses, that is every
 * guesser not yet checked); a user who mistyped once goes before guessers with more; and a flood
 * never refuses a new client for a queue that others filled. A client's parallel requests with the
 * same credentials share one check and count once; other credentials wait behind it,
 * `waitingPerClient` of them, and a request beyond that is refused and counted as a failure: an
 * address that keeps sending credentials that are never checked is locked out like one that fails
 * them. A lockout answers the client's waiting checks with 429 at once, without hashing them, and a
 * check still running is answered 429 too.
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
 * A locked prefix refuses its addresses before they take a place in the table, so a rotator cannot
 * fill it. The prefixes' budgets are kept apart, one for each of the server's own prefixes (never
 * a client's choice), and dropped once their failures and lockouts have expired.
 */
export class LoginThrottle {
  private readonly options: ThrottleOptions
  private readonly clients = new Map<string, Client>()
  /** The budgets of the LAN prefixes with failures or lockouts that still count, by CIDR. */
  private readonly prefixes = new Map<string, Tally>()
  private lan: {prefixes: Ipv6Prefix[]; readAt: number} | undefined
  private readonly scheduler: FairScheduler
  private clientsHashing = 0

  constructor(options: Partial<ThrottleOptions> = {}) {
    this.options = {...defaultThrottle, ...options}
    this.scheduler = new FairScheduler({slots: this.options.hashingSlots, now: this.options.now})
  }

  get trackedClients(): number {
    return this.clients.size
  }

  get trackedPrefixes(): number {
    return this.prefixes.size
  }

  /** The clients and LAN prefixes locked out now, longest locked first; changes nothing. */
  lockouts(): Lockout[] {
    const now = this.options.now()
    const locked: Lockout[] = []
    const add = (client: string, kind: Lockout['kind'], tally: Tally) => {
      if (tally.lockedUntil <= now) return
      const {lockedAt, lockedUntil, failuresSinceStrikes: failures, strikes: lockouts} = tally
      locked.push({client, kind, lockedAt, lockedUntil, failures, lockouts})
    }
    for (const [cidr, budget] of this.prefixes) add(cidr, 'lan-prefix', budget)
    for (const [key, client] of this.clients) add(key, key.includes('/') ? 'network' : 'address', client)
    return locked.sort((a, b) => a.lockedAt - b.lockedAt)
  }

  /**
   * Lets `target` in again at once, for the owner who knows who it is: an address (mapped to its
   * key, see `throttledClient`) or a key as `lockouts` lists it (see `parseClientTarget`). Its
   * failures and strikes are forgotten too, so its next mistake does not lock it out for longer.
   */
  unlock(target: string): Unlocked {
    const now = this.options.now()
    const {key, prefix} = target.includes('/')
      ? {key: target, prefix: undefined}
      : throttledClient(target, this.lanPrefixes(now))
    let unlocked = false
    const budget = this.prefixes.get(key)
    if (budget) {
      unlocked = budget.lockedUntil > now
      this.prefixes.delete(key)
    }
    const client = this.clients.get(key)
    if (client) {
      unlocked ||= client.lockedUntil > now
      Object.assign(client, cleanTally())
      this.forgetIfIdle(key, client)
    }
    const prefixLockedUntil = this.prefixBudget(prefix, now)?.lockedUntil ?? 0
    return {client: key, unlocked, lockedPrefix: prefixLockedUntil > now ? prefix : undefined}
  }

  /** Whom a request or connection from `address` counts against: its key (see `throttledClient`). */
  clientOf(address: string): string {
    return throttledClient(address, this.lanPrefixes(this.options.now())).key
  }

  /** Whether requests from `address` get 429 now (it or its LAN prefix locked out); counts nothing. */
  isLockedOut(address: string): boolean {
    const now = this.options.now()
    const {key, prefix} = throttledClient(address, this.lanPrefixes(now))
    const lockedUntil = Math.max(
      this.clients.get(key)?.lockedUntil ?? 0,
      prefix === undefined ? 0 : (this.prefixes.get(prefix)?.lockedUntil ?? 0),
    )
    return lockedUntil > now
  }

  /** The server's own prefixes and link-local, read again when older than `ownPrefixesMs`. */
  private lanPrefixes(now: number): readonly Ipv6Prefix[] {
    if (this.lan && now - this.lan.readAt < this.options.ownPrefixesMs) return this.lan.prefixes
    const own = this.options.ownPrefixes().map(parseIpv6Prefix)
    this.lan = {prefixes: [linkLocal, ...own.filter((prefix) => prefix !== undefined)], readAt: now}
    for (const [cidr, budget] of this.prefixes) this.forgetIdlePrefix(cidr, budget, now)
    return this.lan.prefixes
  }

  /** The prefix's budget, its expired failures and lockouts forgotten; undefined when nothing counts. */
  private prefixBudget(cidr: string | undefined, now: number): Tally | undefined {
    const budget = cidr === undefined ? undefined : this.prefixes.get(cidr)
    return budget && this.forgetIdlePrefix(cidr!, budget, now) ? undefined : budget
  }

  /** Expires the budget's failures and drops it when nothing of it counts any more; true if dropped. */
  private forgetIdlePrefix(cidr: string, budget: Tally, now: number): boolean {
    this.expire(budget, now)
    if (budget.failures > 0 || budget.strikes > 0 || budget.lockedUntil > now) return false
    return this.prefixes.delete(cidr)
  }

  /** When the client may be answered again: the end of its own lockout or its prefix's, whichever is later. */
  private lockedUntil(client: Client, now: number): number {
    return Math.max(client.lockedUntil, this.prefixBudget(client.prefix, now)?.lockedUntil ?? 0)
  }

  /** The client's entry, now the most recently seen; undefined for a new client when there is no room. */
  private client(key: string, now: number): Client | undefined {
    let client = this.clients.get(key)
    if (client) this.clients.delete(key)
    else {
      if (!this.makeRoom(now)) return undefined
      client = {...cleanTally(), checks: [], prefix: undefined}
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

  private expire(tally: Tally, now: number): void {
    if (tally.lockedUntil <= now && now - tally.lastFailure > this.options.windowMs) {
      tally.failures = 0
      tally.strikes = 0
      tally.failuresSinceStrikes = 0
    } else if (now - tally.firstFailure > this.options.windowMs) {
      tally.failures = 0
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

  private lockedOut(lockedUntil: number, now: number): LoginResult & Admission {
    return {verdict: 'locked-out', retryAfterSeconds: Math.ceil((lockedUntil - now) / 1000)}
  }

  /**
   * Decides, before any credential check, whether a request with credentials from `address` may be
   * checked; synchronous, so a request that needs no hashing never waits for anything.
   */
  admit(address: string | undefined): Admission {
    const now = this.options.now()
    const {key, prefix} = throttledClient(address, this.lanPrefixes(now))
    const budget = this.prefixBudget(prefix, now)
    if (budget && budget.lockedUntil > now) {
      const own = this.clients.get(key)
      if (own) this.expire(own, now)
      return this.lockedOut(Math.max(budget.lockedUntil, own?.lockedUntil ?? 0), now)
    }
    const client = this.client(key, now)
    if (!client) return {verdict: 'no-room', retryAfterSeconds: this.retryAfterNoRoom(now)}
    client.prefix = prefix
    this.expire(client, now)
    if (client.lockedUntil > now) return this.lockedOut(client.lockedUntil, now)
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
      const retryAfterSeconds = Math.max(counted.lockedForSeconds ?? 1, counted.prefix?.lockedForSeconds ?? 1)
      return {verdict: 'busy', retryAfterSeconds, ...counted}
    }
    if (checks.length === 0 && this.clientsHashing >= this.options.maxClientsHashing) {
      this.forgetIfIdle(key, client)
      return {verdict: 'hashing-full', retryAfterSeconds: 1}
    }
    const pending = pendingCheck(check)
    checks.push(pending)
    if (checks.length === 1) {
      this.clientsHashing++
      this.enqueue(key, client)
    }
    return pending.result
  }

  /** Queues the client's check in turn for hashing, ordered by its failures as they stand when a slot frees. */
  private enqueue(key: string, client: Client): void {
    this.scheduler.enqueue(
      key,
      () => client.failuresSinceStrikes,
      () => this.run(key, client),
    )
  }

  /** Runs the client's check in turn, answers everyone waiting for it, and queues its next check. */
  private async run(key: string, client: Client): Promise<void> {
    const pending = client.checks[0]!
    pending.started = true
    try {
      pending.answer(await this.decide(key, client, pending.check))
    } catch (error) {
      pending.fail(error)
    }
    client.checks.shift()
    if (client.checks.length > 0) this.enqueue(key, client)
    else {
      this.clientsHashing--
      this.forgetIfIdle(key, client)
    }
  }

  /** The answer to the client's check in turn: 429 without hashing if its prefix was locked out while it waited. */
  private async decide(key: string, client: Client, check: CredentialCheck): Promise<LoginResult> {
    const before = this.options.now()
    const lockedBefore = this.lockedUntil(client, before)
    if (lockedBefore > before) return this.lockedOut(lockedBefore, before)
    const verified = check.answerAtOnce() ?? (await check.hash())
    const now = this.options.now()
    this.expire(client, now)
    // Locked out while it ran (by requests refused as busy, or its prefix's): the client learns nothing from it.
    const lockedUntil = this.lockedUntil(client, now)
    return lockedUntil > now ? this.lockedOut(lockedUntil, now) : this.settle(key, client, verified)
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
    if (outcome === 'success') {
      client.failures = 0
      client.strikes = 0
      client.failuresSinceStrikes = 0
      this.forgetIfIdle(key, client)
      return {failures: 0, lockedForSeconds: undefined, prefix: undefined}
    }
    const lockedForSeconds = this.countFailure(client, this.options.maxFailures, now)
    const prefix = client.prefix === undefined ? undefined : this.countPrefixFailure(client.prefix, now)
    if (lockedForSeconds !== undefined || prefix?.lockedForSeconds !== undefined)
      this.answerWaiting(key, client, now)
    const failures = client.failures
    this.forgetIfIdle(key, client)
    return {failures, lockedForSeconds, prefix}
  }

  private countPrefixFailure(cidr: string, now: number): PrefixCount {
    let budget = this.prefixBudget(cidr, now)
    if (!budget) {
      budget = cleanTally()
      this.prefixes.set(cidr, budget)
    }
    const limit = this.options.devicesPerPrefix * this.options.maxFailures
    const lockedForSeconds = this.countFailure(budget, limit, now)
    return {cidr, failures: budget.failures, lockedForSeconds}
  }

  /** Counts a failure; at `limit` failures locks out (each lockout doubling the last) and says for how long. */
  private countFailure(tally: Tally, limit: number, now: number): number | undefined {
    if (tally.failures === 0) tally.firstFailure = now
    tally.failures++
    tally.failuresSinceStrikes++
    tally.lastFailure = now
    if (tally.failures < limit) return undefined
    const lockout = Math.min(this.options.maxLockoutMs, this.options.lockoutMs * 2 ** tally.strikes)
    tally.strikes++
    tally.lockedAt = now
    tally.lockedUntil = now + lockout
    tally.failures = 0
    return Math.ceil(lockout / 1000)
  }

  /** A client or its prefix was locked out: its checks not yet started are answered 429 now, never hashed. */
  private answerWaiting(key: string, client: Client, now: number): void {
    const running = client.checks[0]?.started ? 1 : 0
    const waiting = client.checks.splice(running)
    if (running === 0 && waiting.length > 0) {
      this.scheduler.withdraw(key)
      this.clientsHashing--
    }
    const result = this.lockedOut(this.lockedUntil(client, now), now)
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
