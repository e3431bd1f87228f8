import type {IncomingMessage, OutgoingHttpHeader, ServerResponse} from 'node:http'

import type {RequestHandler} from 'express'
import helmet, {type HelmetOptions} from 'helmet'

export interface SecurityHeaderOptions {
  /** CSP hash sources ('sha256-…') of the inline styles the page template carries. */
  styleHashes: string[]
  /** Origins allowed to embed the page (dashboards); none by default. */
  frameAncestors?: string[]
  /** False on plain HTTP: HSTS must only come over a secure transport (RFC 6797 §7.2). */
  hsts?: boolean
}

/** A one-hour HSTS: long enough to protect a session, short enough not to lock out other http apps on this host. */
export const hstsMaxAgeSeconds = 3600

/**
 * helmet's settings. HSTS has no includeSubDomains and a short max-age because HSTS binds a host
 * on every port, and a home server's name often serves plain-http apps too. The CSP allows no
 * external source and nothing inline but the page's styles, by hash: its one script is the
 * same-origin /app.js, so an injected <script> or on* attribute could never run.
 */
export function helmetOptions(options: SecurityHeaderOptions): HelmetOptions {
  const frameAncestors = options.frameAncestors?.length ? options.frameAncestors : ["'none'"]
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: options.styleHashes.map((hash) => `'${hash}'`),
        scriptSrc: ["'self'"],
        imgSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors,
      },
    },
    strictTransportSecurity:
      options.hsts === false ? false : {maxAge: hstsMaxAgeSeconds, includeSubDomains: false},
    // X-Frame-Options cannot name origins: leave framing to CSP when the user allows some.
    xFrameOptions: options.frameAncestors?.length ? false : {action: 'deny'},
  }
}

interface HeaderChanges {
  set: [name: string, value: OutgoingHttpHeader][]
  removed: string[]
}

/**
 * What helmet does to every response with these options, read once by running it against a
 * recording response: none of our options depends on the request, so the answer is the same for all.
 */
function recordHelmet(options: HelmetOptions): HeaderChanges {
  const changes: HeaderChanges = {set: [], removed: []}
  const recorder = {
    setHeader(name: string, value: OutgoingHttpHeader) {
      changes.set.push([name, value])
    },
    removeHeader(name: string) {
      changes.removed.push(name)
    },
  }
  let finished = false
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error
    finished = true
  })
  if (!finished) throw new Error('helmet did not finish setting headers at once.')
  return changes
}

/**
 * helmet's security headers, computed once at start-up and set on each response in one loop, and
 * `Cache-Control: no-store`: nothing homeauth answers may be kept by a cache (the secret, challenges,
 * per-device onboarding pages, redirects to https).
 */
export function securityHeaders(options: SecurityHeaderOptions): RequestHandler {
  const {set, removed} = recordHelmet(helmetOptions(options))
  set.push(['Cache-Control', 'no-store'])
  return function setSecurityHeaders(_req, res, next) {
    for (const [name, value] of set) res.setHeader(name, value)
    for (const name of removed) res.removeHeader(name)
    next()
  }
}
