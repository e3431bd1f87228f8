import type {IncomingMessage, RequestListener, ServerResponse} from 'node:http'

import {pathOf, type AccessLogEntry} from './access-log.js'
import type {LoginDecision, LoginGate} from './basic-auth.js'
import {
  admitted,
  allowedUsers,
  forwardAuthPath,
  reportUntrustedProxy,
  type ProxyRequestOptions,
} from './forward-auth.js'
import {clientAddress} from './trusted-proxies.js'

export interface DirectAnswerOptions extends ProxyRequestOptions {
  gate: LoginGate
  /** `GET /api/secret`'s whole answer: the JSON body and every header express would send with it. */
  secret?: {body: Buffer; headers: string[]}
  onRequest?: (entry: AccessLogEntry) => void
}

type Verified = Extract<LoginDecision, {verdict: 'verified'}>

/**
 * The answers given most, written without express: `/auth` (a proxy asks it before every request it
 * guards) and `GET /api/secret` (scripts poll it), when the login is decided at once (a cached login, a
 * device's password). Everything else goes to `app`: other paths before anything is read, and these
 * two with their decision kept (`LoginGate.keep`), so a request is still decided once and every other
 * answer (401, 429, 403, a login that waits for hashing) is the one express writes. The answers are the
 * same either way: /auth's 200 is written by one function, and /api/secret's headers are the ones
 * express's middleware sets, computed once. Express's router, its request and response wrappers, and
 * setting each header on its own cost more than the answer itself (issue 20).
 */
export function withDirectAnswers(app: RequestListener, options: DirectAnswerOptions): RequestListener {
  const {gate, secret, onRequest} = options

  function log(req: IncomingMessage, path: string, started: number, decision: Verified): void {
    const {user, device} = decision
    onRequest?.({method: req.method!, path, status: 200, ms: performance.now() - started, user, device})
  }

  /** The login if it is decided at once, verified and `admits` its user; else undefined, the decision kept for express. */
  function verifiedAtOnce(req: IncomingMessage, admits = (_user: string) => true): Verified | undefined {
    const decision = gate.decide(req, clientAddress(req, options.trust))
    if (!(decision instanceof Promise) && decision.verdict === 'verified' && admits(decision.user))
      return decision
    gate.keep(req, decision)
    return undefined
  }

  return function answer(req: IncomingMessage, res: ServerResponse) {
    const started = performance.now()
    const path = pathOf(req.url ?? '')
    if (path === forwardAuthPath) {
      const allowed = allowedUsers(req.url!)
      // A malformed query: express answers it, before any credentials are read.
      if (allowed instanceof Error) return app(req, res)
      const decision = verifiedAtOnce(req, (user) => !allowed || allowed.has(user))
      if (!decision) return app(req, res)
      reportUntrustedProxy(req, options)
      admitted(res, decision.user)
      return log(req, path, started, decision)
    }
    if (secret && path === '/api/secret' && req.method === 'GET') {
      const decision = verifiedAtOnce(req)
      if (!decision) return app(req, res)
      res.writeHead(200, secret.headers)
      res.end(secret.body)
      return log(req, path, started, decision)
    }
    app(req, res)
  }
}
