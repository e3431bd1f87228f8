import {isIPv4, isIPv6} from 'node:net'

export interface ThrottleOptions {
  /** Failed logins from one client, within `windowMs`, that trigger a lockout. */
  maxFailures: number
  windowMs: number
  /** The first lockout; each further one doubles, up to `maxLockoutMs`. */
  lockoutMs: number
  maxLockoutMs: number
  /** Clients tracked at most (see `LoginThrottle` for which are forgotten to make room). */
  maxClients: number
  now: () => number
}

export const defaultThrottle: ThrottleOptions = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockoutMs: 60_000,
  maxLockoutMs: 15 * 60_000,
  maxClients: 10_000,
  now: Date.now,
}

interface Client {
  failures: number
  firstFailure: number
  lastFailure: number
  /** Lockouts so far; each doubles the next. Forgotten after a window without failures. */
  strikes: number
  lockedUntil: number
  inFlight: number
  waiters: (() => void)[]
}

export type Outcome = 'success' | 'failure' | 'none'

/**
 * `locked-out`: this client failed too often. `no-room`: a new client, and every tracked client is
 * locked out or being checked, so there is no room to count its failures.
 */
export type Admission =
  | {verdict: 'locked-out'; retryAfterSeconds: number}
  | {verdict: 'no-room'; retryAfterSeconds: number}
  | {
      verdict: 'admitted'
      settle(outcome: Outcome): {failures: number; lockedForSeconds: number | undefined}
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
 * A client's verifications still running count toward its limit: a request that could be the one
 * to cross it waits for them to finish, so parallel guesses cannot slip past the limit that
 * sequential ones hit, while parallel requests with the right password are only delayed, never refused.
 *
 * Memory is bounded by `maxClients`. To make room for a new client it forgets, least recently seen
 * first, a client whose failures have expired, else one with failures below the limit; never one
 * that is locked out, whose earlier lockouts still count, or that has a check in flight. Forgetting
 * those would let a guesser rotating addresses (the /64s of its /48) wipe its own lockouts. When
 * only such clients are left, a new client is refused (`no-room`) rather than a lockout forgotten.
 */
export class LoginThrottle {
  private readonly options: ThrottleOptions
  private readonly clients = new Map<string, Client>()

  constructor(options: Partial<ThrottleOptions> = {}) {
    this.options = {...defaultThrottle, ...options}
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
      client = {
        failures: 0,
        firstFailure: 0,
        lastFailure: 0,
        strikes: 0,
        lockedUntil: 0,
        inFlight: 0,
        waiters: [],
      }
    }
    this.clients.set(key, client)
    return client
  }

  /** Forgets one client if the table is full (the Map iterates least recently seen first); false if none may go. */
  private makeRoom(now: number): boolean {
    if (this.clients.size < this.options.maxClients) return true
    let withFailures: string | undefined
    for (const [key, client] of this.clients) {
      if (client.inFlight > 0) continue
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
        client.inFlight > 0
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
    if (client.inFlight === 0 && client.failures === 0 && client.strikes === 0 && client.lockedUntil <= now) {
      this.clients.delete(key)
    }
  }

  /** Decides, before any credential check, whether a request with credentials from `key` may be checked. */
  async admit(key: string): Promise<Admission> {
    for (;;) {
      const now = this.options.now()
      const client = this.client(key, now)
      if (!client) return {verdict: 'no-room', retryAfterSeconds: this.retryAfterNoRoom(now)}
      this.expire(client, now)
      if (client.lockedUntil > now) {
        return {verdict: 'locked-out', retryAfterSeconds: Math.ceil((client.lockedUntil - now) / 1000)}
      }
      if (client.inFlight > 0 && client.failures + client.inFlight >= this.options.maxFailures) {
        await new Promise<void>((resolve) => client.waiters.push(resolve))
        continue
      }
      client.inFlight++
      let settled = false
      return {
        verdict: 'admitted',
        settle: (outcome) => {
          if (settled) throw new Error('settled twice')
          settled = true
          return this.settle(key, client, outcome)
        },
      }
    }
  }

  private settle(key: string, client: Client, outcome: Outcome) {
    const now = this.options.now()
    client.inFlight--
    let lockedForSeconds: number | undefined
    if (outcome === 'success') {
      client.failures = 0
      client.strikes = 0
    } else if (outcome === 'failure') {
      if (client.failures === 0) client.firstFailure = now
      client.failures++
      client.lastFailure = now
      if (client.failures >= this.options.maxFailures) {
        const lockout = Math.min(this.options.maxLockoutMs, this.options.lockoutMs * 2 ** client.strikes)
        client.strikes++
        client.lockedUntil = now + lockout
        client.failures = 0
        lockedForSeconds = Math.ceil(lockout / 1000)
      }
    }
    const failures = client.failures
    for (const wake of client.waiters.splice(0)) wake()
    this.forgetIfIdle(key, client)
    return {failures, lockedForSeconds}
  }
}
