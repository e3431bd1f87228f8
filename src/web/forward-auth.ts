import type {IncomingMessage, ServerResponse} from 'node:http'

import type {NextFunction, Request, RequestHandler, Response} from 'express'

import {credentialProblem} from '../credentials/credentials.js'
import {forwardingHeaderOf, isLocalAddress, type ProxyTrust} from './trusted-proxies.js'

/** The path a reverse proxy asks (nginx auth_request, Caddy forward_auth, Traefik ForwardAuth). */
export const forwardAuthPath = '/auth'

/**
 * The users `?user=alice&user=bob` (in the request target `url`) admits, NFC-normalised like the names signing in; undefined when
 * the query names none (then every valid user is admitted). Any other parameter is an error, so a
 * mistyped restriction (`?users=bob`, `?user[]=bob`) fails closed instead of admitting everyone. The
 * raw query is read with URLSearchParams, never express's req.query: `user[]` stays a name of its own.
 */
export function allowedUsers(url: string): Set<string> | undefined | Error {
  const queryStart = url.indexOf('?')
  const query = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1))
  const unknown = [...query.keys()].find((name) => name !== 'user')
  if (unknown !== undefined) {
    return new Error(
      `${JSON.stringify(unknown)} is not a parameter of /auth: only ?user= is (?user=alice&user=bob).`,
    )
  }
  const names = query.getAll('user')
  if (names.length === 0) return undefined
  const bad = names.find((name) => credentialProblem('user name', name))
  if (bad !== undefined) return new Error(`?user=${JSON.stringify(bad)} is not a user name.`)
  return new Set(names.map((name) => name.normalize('NFC')))
}

/**
 * A user name as a header value: its UTF-8 bytes, which Node writes as they are (RFC 9110 §5.5
 * obs-text); a name with a character above U+00FF would otherwise make Node throw. It cannot
 * inject a header: a name only reaches here once verified, and names with control characters
 * (CR, LF and NUL included) are refused before any check (credentialProblem, RFC 7617 §2), while
 * UTF-8 encodes every other character in bytes of 0x20 and above.
 */
export function headerValue(name: string): string {
  return Buffer.from(name, 'utf8').toString('latin1')
}

/** A loopback or private address asked /auth with forwarding headers, and is not a trusted proxy. */
export interface UntrustedProxy {
  /** The connection's address; undefined on a Unix socket. */
  address: string | undefined
  /** The first forwarding header it sent, e.g. x-forwarded-for. */
  header: string
}

export interface ProxyRequestOptions {
  trust: ProxyTrust | false
  onUntrustedProxy?: (proxy: UntrustedProxy) => void
}

/** Calls `onUntrustedProxy` when a local address that is not a trusted proxy sent forwarding headers. */
export function reportUntrustedProxy(req: IncomingMessage, options: ProxyRequestOptions): void {
  if (!options.onUntrustedProxy) return
  const address = req.socket.remoteAddress
  const header = forwardingHeaderOf(req.headers)
  if (header && !(options.trust && options.trust(address, 0)) && isLocalAddress(address)) {
    options.onUntrustedProxy({address, header})
  }
}

/**
 * Before authentication. A malformed query is the proxy's configuration, not the client's doing,
 * so it answers 400 to everyone without reading credentials (nothing counted, nobody admitted).
 * A local address sending forwarding headers is most likely a proxy the user forgot to name with
 * --trust-proxy: all its clients then share one failed-login count, so it is reported.
 */
export function checkProxyRequest(options: ProxyRequestOptions): RequestHandler {
  return function checkForwardAuthRequest(req: Request, res: Response, next: NextFunction) {
    reportUntrustedProxy(req, options)
    const allowed = allowedUsers(req.originalUrl)
    if (allowed instanceof Error) return void res.status(400).json({message: allowed.message})
    res.locals.allowedUsers = allowed
    next()
  }
}

/**
 * After authentication: the verdict for a proxy. 200 with `Remote-User` and an empty body for a user
 * the query admits, 403 for a valid user it does not. Any method gets the same answer: nginx's
 * auth_request asks with the method of the request it guards.
 */
export function forwardAuthVerdict(): RequestHandler {
  return function answerProxy(_req: Request, res: Response) {
    const user = res.locals.user as string
    const allowed = res.locals.allowedUsers as Set<string> | undefined
    if (allowed && !allowed.has(user)) {
      return void res.status(403).json({message: 'This user may not open this app.'})
    }
    admitted(res, user)
  }
}

/**
 * The 200 of /auth: what a proxy reads (`Remote-User`), no-store, an empty body, and nothing else. The
 * security headers set before are dropped: a proxy never passes this answer on to a browser, and a
 * browser asking /auth itself gets an empty body, which they would not protect.
 */
export function admitted(res: ServerResponse, user: string): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name)
  res.writeHead(200, ['Remote-User', headerValue(user), 'Cache-Control', 'no-store', 'Content-Length', '0'])
  res.end()
}
