import {createHash} from 'node:crypto'
import type {IncomingMessage, OutgoingHttpHeader, ServerResponse} from 'node:http'

import type {RequestHandler} from 'express'
import helmet, {contentSecurityPolicy, type HelmetOptions} from 'helmet'

/** What a page may load: nothing external, and nothing inline but its styles, by hash. */
export interface PagePolicy {
  /** CSP hash sources ('sha256-…') of the inline styles the page template carries. */
  styleHashes: string[]
  /** The page loads its script and images from its own origin (the secret page; the onboarding page loads nothing). */
  ownScripts?: boolean
  /** Origins allowed to embed the page (dashboards); none by default. */
  frameAncestors?: string[]
}

export interface SecurityHeaderOptions extends Omit<PagePolicy, 'ownScripts'> {
  /** False on plain HTTP: HSTS must only come over a secure transport (RFC 6797 §7.2). */
  hsts?: boolean
}

/** A one-hour HSTS: long enough to protect a session, short enough not to lock out other http apps on this host. */
export const hstsMaxAgeSeconds = 3600

/** CSP hash sources ('sha256-…') of the inline <style> blocks in `html`. */
export function inlineStyleHashes(html: string): string[] {
  return [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map(
    ([, css]) =>
      `sha256-${createHash('sha256')
        .update(css ?? '')
        .digest('base64')}`,
  )
}

/**
 * The CSP of a page, as helmet writes it: no external source and nothing inline but the page's
 * styles, by hash. The secret page's one script is the same-origin /app.js, so an injected <script>
 * or on* attribute could never run.
 */
function policyOptions(policy: PagePolicy): Parameters<typeof contentSecurityPolicy>[0] {
  return {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      styleSrc: policy.styleHashes.map((hash) => `'${hash}'`),
      ...(policy.ownScripts ? {scriptSrc: ["'self'"], imgSrc: ["'self'"]} : {}),
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: policy.frameAncestors?.length ? policy.frameAncestors : ["'none'"],
    },
  }
}

/**
 * helmet's settings. HSTS has no includeSubDomains and a short max-age because HSTS binds a host
 * on every port, and a home server's name often serves plain-http apps too.
 */
export function helmetOptions(options: SecurityHeaderOptions): HelmetOptions {
  return {
    contentSecurityPolicy: policyOptions({...options, ownScripts: true}),
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
 * What a helmet middleware does to every response, read once by running it against a recording
 * response: none of our options depends on the request, so the answer is the same for all.
 */
function recordHeaders(middleware: ReturnType<typeof helmet>): HeaderChanges {
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
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error
    finished = true
  })
  if (!finished) throw new Error('helmet did not finish setting headers at once.')
  return changes
}

function headerChanges(options: SecurityHeaderOptions): HeaderChanges {
  const changes = recordHeaders(helmet(helmetOptions(options)))
  changes.set.push(['Cache-Control', 'no-store'])
  return changes
}

/**
 * The headers `securityHeaders` sets, as the flat list of names and values that `writeHead` takes:
 * for answers written without express (see direct-answers.ts), which then carry the same ones.
 */
export function securityHeaderFields(options: SecurityHeaderOptions): string[] {
  return headerChanges(options).set.flatMap(([name, value]) => [name, String(value)])
}

/**
 * helmet's security headers, computed once at start-up and set on each response in one loop, and
 * `Cache-Control: no-store`: nothing homeauth answers may be kept by a cache (the secret, challenges,
 * per-device onboarding pages, redirects to https).
 */
export function securityHeaders(options: SecurityHeaderOptions): RequestHandler {
  const {set, removed} = headerChanges(options)
  return function setSecurityHeaders(_req, res, next) {
    for (const [name, value] of set) res.setHeader(name, value)
    for (const name of removed) res.removeHeader(name)
    next()
  }
}

/** The Content-Security-Policy header value of a page that sets its own (the onboarding page). */
export function pagePolicyHeader(policy: PagePolicy): string {
  const [name, value] = recordHeaders(contentSecurityPolicy(policyOptions(policy))).set[0]!
  if (name !== 'Content-Security-Policy') throw new Error(`helmet set ${name} for a Content-Security-Policy.`)
  return String(value)
}
