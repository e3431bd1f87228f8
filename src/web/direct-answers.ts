import type {IncomingMessage, RequestListener, ServerResponse} from 'node:http'

import {pathOf, type AccessLogEntry} from './access-log.js'
import {isRefusal, jsonContentType, refuse, type LoginDecision, type LoginGate} from './basic-auth.js'
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
  /** The security headers express's middleware sets (`securityHeaderFields`), for the refusals. */
  headers: string[]
  /** `GET /api/secret`'s JSON body, on the listener that serves it. */
  secret?: Buffer
  onRequest?: (entry: AccessLogEntry) => void
}

/**
 * The answers given most, written without express: `/auth` (a proxy asks it before every request it
 * guards) and `GET /api/secret` (scripts poll it), when the decision is made at once and needs no
 * content negotiation: a login verified at once (a cached login, a device's password), or a refusal
 * (429 to a locked-out client, 503). Everything else goes to `app`: other paths before anything is
 * read, and these two with their decision kept (`LoginGate.keep`), so a request is still decided once
 * and every other answer (401, 403, a login that waits for hashing) is the one express writes. The
 * answers are the same either way: the 200 of /auth and the refusals are written by one function
 * each, and /api/secret's headers are the ones express's middleware sets, computed once. Express's
 * router, its request and response wrappers, and setting each header on its own cost more than the
 * answer itself (issue 20).
 */
export function withDirectAnswers(app: RequestListener, options: DirectAnswerOptions): RequestListener {
  const {gate, headers, secret, onRequest} = options
  const secretHeaders = secret && [
    ...headers,
    'Content-Type',
    jsonContentType,
    'Content-Length',
    String(secret.length),
  ]

  /**
   * Answers `req` if its decision allows it (`admit` writes a login it admits), else keeps the
   * decision and hands the request to express. The access log gets the entry express would write.
   */
  function answer(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    admit: (user: string) => boolean,
  ): void {
    const started = performance.now()
    const decision = gate.decide(req, clientAddress(req, options.trust))
    if (decision instanceof Promise) return handOver(req, res, decision)
    let device: string | undefined
    if (decision.verdict === 'verified' && admit(decision.user)) device = decision.device
    else if (isRefusal(decision)) refuse(res, decision, headers)
    else return handOver(req, res, decision)
    const ms = performance.now() - started
    onRequest?.({method: req.method!, path, status: res.statusCode, ms, user: decision.user, device})
  }

  function handOver(
    req: IncomingMessage,
    res: ServerResponse,
    decision: LoginDecision | Promise<LoginDecision>,
  ): void {
    gate.keep(req, decision)
    app(req, res)
  }

  return function answerDirectly(req: IncomingMessage, res: ServerResponse) {
    const path = pathOf(req.url ?? '')
    if (path === forwardAuthPath) {
      const allowed = allowedUsers(req.url!)
      // A malformed query: express answers it, before any credentials are read.
      if (allowed instanceof Error) return app(req, res)
      return answer(req, res, path, (user) => {
        if (allowed && !allowed.has(user)) return false
        reportUntrustedProxy(req, options)
        admitted(res, user)
        return true
      })
    }
    if (secretHeaders && path === '/api/secret' && req.method === 'GET') {
      return answer(req, res, path, () => {
        res.writeHead(200, secretHeaders)
        res.end(secret)
        return true
      })
    }
    app(req, res)
  }
}
