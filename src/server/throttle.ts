import {isIPv4, isIPv6} from 'node:net'

export interface ThrottleOptions {
  /** Failed logins from one client, within `windowMs`, that trigger a lockout. */
  maxFailures: number
  windowMs: number
  /** The first lockout; each further one doubles, up to `maxLockoutMs`. */
  lockoutMs: number
  maxLockoutMs: number
  /** Clients tracked at most; the least recently seen idle ones are forgotten first. */
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

export type Admission =
  | {locked: true; retryAfterSeconds: number}
  | {locked: false; settle(outcome: Outcome): {failures: number; lockedForSeconds: number | undefined}}

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

  private client(key: string): Client {
    let client = this.clients.get(key)
    if (client) this.clients.delete(key)
    else {
      client = {
        failures: 0,
        firstFailure: 0,
        lastFailure: 0,
        strikes: 0,
        lockedUntil: 0,
        inFlight: 0,
        waiters: [],
      }
      this.evictForRoom()
    }
    this.clients.set(key, client)
    return client
  }

  private evictForRoom(): void {
    if (this.clients.size < this.options.maxClients) return
    for (const [key, client] of this.clients) {
      if (client.inFlight === 0) {
        this.clients.delete(key)
        if (this.clients.size < this.options.maxClients) return
      }
    }
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
      const client = this.client(key)
      const now = this.options.now()
      this.expire(client, now)
      if (client.lockedUntil > now) {
        return {locked: true, retryAfterSeconds: Math.ceil((client.lockedUntil - now) / 1000)}
      }
      if (client.inFlight > 0 && client.failures + client.inFlight >= this.options.maxFailures) {
        await new Promise<void>((resolve) => client.waiters.push(resolve))
        continue
      }
      client.inFlight++
      let settled = false
      return {
        locked: false,
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
