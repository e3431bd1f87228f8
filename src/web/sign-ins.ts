import {unmapIpv4} from '../net/ipv6.js'

/** One user's latest sign-in from one address (every request with credentials that were accepted). */
export interface SignIn {
  user: string
  /** The device (`device add`) whose password it was; absent for the user's own password. */
  device?: string
  /** The client's address as the server saw it (after --trust-proxy), IPv4-mapped ones unwrapped. */
  address: string
  at: number
}

/**
 * The latest sign-ins of each user, kept in memory for `homeauth status --clients`: one entry per
 * address and device (or the user's own password), the `perUser` most recent. Users are the ones whose credentials were accepted,
 * so the whole is bounded by the users in config.json times `perUser`. A request costs a look
 * through at most `perUser` entries.
 */
export class SignInLog {
  private readonly byUser = new Map<string, SignIn[]>()

  constructor(
    private readonly perUser = 5,
    private readonly now: () => number = Date.now,
  ) {}

  record(user: string, address: string, device?: string): void {
    const at = this.now()
    const plain = unmapIpv4(address)
    const entries = this.byUser.get(user) ?? []
    const same = (entry: SignIn) => entry.address === plain && entry.device === device
    // A browser's page, script and API requests come from one address: update it where it stands.
    if (entries[0] && same(entries[0])) {
      entries[0].at = at
      return
    }
    const earlier = entries.findIndex(same)
    if (earlier !== -1) entries.splice(earlier, 1)
    entries.unshift(device === undefined ? {user, address: plain, at} : {user, device, address: plain, at})
    entries.length = Math.min(entries.length, this.perUser)
    this.byUser.set(user, entries)
  }

  /** Whether any user signed in from `address` within the last `withinMs`. */
  signedInFrom(address: string, withinMs: number): boolean {
    const plain = unmapIpv4(address)
    const since = this.now() - withinMs
    for (const entries of this.byUser.values())
      if (entries.some((entry) => entry.address === plain && entry.at >= since)) return true
    return false
  }

  /** Every user's latest sign-ins, most recent first. */
  latest(): SignIn[] {
    return [...this.byUser.values()].flat().sort((a, b) => b.at - a.at)
  }
}
