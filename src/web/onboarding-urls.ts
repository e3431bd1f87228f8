/** Where a device opens the onboarding page: plain HTTP on the server's port, where `/` hands out the CA. */
export interface OnboardingUrls {
  /** One per LAN address the server can be reached on, IPv4 first; empty when there is none. */
  urls: string[]
  /** The onboarding page from this machine. */
  localUrl: string
  /** The address the server listens on when it is a loopback one (then `urls` is empty). */
  loopbackHost?: string
}

/** The onboarding URLs with whether a server runs to answer them. */
export interface ServerOnboardingUrls extends OnboardingUrls {
  serverRunning: boolean
}
