import type {NameConstraints} from '../certificates/constraints.js'
import {certificateHosts, missingHosts} from '../certificates/hosts.js'

/** How often a running server looks at what its certificate should cover. */
export interface CertificateWatchTiming {
  /** Looks this often for a LAN address (or machine name) the served certificate lacks. */
  hostsCheckMs: number
  /** Reissues for new hosts at most once in this long, so a flapping interface cannot churn certificates. */
  minReissueMs: number
  /** Checks expiry this often (the certificate is renewed when fewer than 30 days are left). */
  expiryCheckMs: number
}

/**
 * A new address is in the certificate within seconds: listing the interfaces costs a fraction of a
 * millisecond, and Node has no event for an address change to wait on instead.
 */
export const defaultCertificateWatchTiming: CertificateWatchTiming = {
  hostsCheckMs: 10_000,
  minReissueMs: 60_000,
  expiryCheckMs: 12 * 60 * 60 * 1000,
}

export interface CertificateWatchOptions {
  /** The names and addresses in the certificate being served now. */
  servedHosts(): string[]
  /** What the CA of that certificate may vouch for (undefined: anything): a new address outside it is not missing. */
  nameConstraints(): NameConstraints | undefined
  /**
   * Loads the certificate again under the config lock, reissuing it from the same CA when it is
   * due or lacks a host, and serves it: what the checks run.
   */
  reload(): Promise<void>
  onReloadFailed(error: Error): void
  /** False with the user's own certificate (--cert/--key): homeauth cannot reissue it, only read it again. */
  reissues: boolean
  /** When start-up reissued the certificate, if it did: the first reissue for new hosts waits as after any other. */
  reissuedAt?: number
  timing?: Partial<CertificateWatchTiming>
}

/** Starts checking the served certificate's hosts and expiry; returns how to stop. One check runs at a time. */
export function watchCertificate(options: CertificateWatchOptions): () => void {
  const timing = {...defaultCertificateWatchTiming, ...options.timing}
  let running = false
  let lastReissue = options.reissuedAt ?? Number.NEGATIVE_INFINITY
  const check = () => {
    running = true
    options
      .reload()
      .catch((error: Error) => options.onReloadFailed(error))
      .finally(() => (running = false))
  }
  const checkHosts = () => {
    if (running || Date.now() - lastReissue < timing.minReissueMs) return
    const wanted = certificateHosts([], options.nameConstraints())
    if (missingHosts(options.servedHosts(), wanted).length === 0) return
    lastReissue = Date.now()
    check()
  }
  const timers = [
    setInterval(() => {
      if (!running) check()
    }, timing.expiryCheckMs),
  ]
  if (options.reissues) timers.push(setInterval(checkHosts, timing.hostsCheckMs))
  for (const timer of timers) timer.unref()
  return () => timers.forEach((timer) => clearInterval(timer))
}
