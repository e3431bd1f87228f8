import type {RequestHandler} from 'express'
import helmet from 'helmet'

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
 * Security headers (helmet). HSTS has no includeSubDomains and a short max-age because HSTS binds
 * a host on every port, and a home server's name often serves plain-http apps too. The CSP allows
 * no external source and nothing inline but the page's styles, by hash: its one script is the
 * same-origin /app.js, so an injected <script> or on* attribute could never run.
 */
export function securityHeaders(options: SecurityHeaderOptions): RequestHandler {
  const frameAncestors = options.frameAncestors?.length ? options.frameAncestors : ["'none'"]
  return helmet({
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
  })
}
