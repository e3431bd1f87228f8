import express, {Router, type NextFunction, type Request, type Response} from 'express'

import {accessLog, type AccessLogEntry} from './access-log.js'
import {answerErrors} from './error-handler.js'
import {addOnboardingRoutes, httpsOrigin, type OnboardingAuthority} from './onboarding.js'
import {changePasswordAdvice, htmlCode, type PasswordAdvice} from './password-advice.js'
import {securityHeaders} from './security-headers.js'

/** A plain-HTTP request that carried an Authorization header: refused unread, reported so the password gets changed. */
export interface UnencryptedCredentials {
  address: string
  method: string
  /** The path, without the query. */
  path: string
  /** The server's password came with its start: then a restart, not passwd, changes it. */
  credentialsAtStartup: boolean
}

export interface PlainAppOptions extends PasswordAdvice {
  /** The local CA to onboard devices with; absent with the user's own certificate (--cert/--key). */
  authority?: OnboardingAuthority
  onRequest?: (entry: AccessLogEntry) => void
  onUnencryptedCredentials?: (request: UnencryptedCredentials) => void
  /** Called with errors that are bugs (answered 500), for the server's error output. */
  onError?: (error: Error) => void
}

/** The 400 page for a browser that sent a password over plain HTTP: what happened, and how to change it. */
function unencryptedPage(advice: PasswordAdvice): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Password sent unencrypted</title></head>
<body><h1>Your password was sent unencrypted</h1>
<p>This request came over plain HTTP with a user name and password, so anyone on the network could have read them. homeauth refused it without checking them.</p>
<p>${changePasswordAdvice(advice, htmlCode)}, then open this address with https:// in front.</p></body></html>
`
}

/**
 * Builds the express app for plain HTTP on the HTTPS port (without listening). It never reads
 * credentials, and serves only what a device needs before it trusts the local CA:
 * 1. any request with an Authorization header: 400, and a warning (the password has been exposed);
 * 2. GET/HEAD `/` and `/trust`, the onboarding page, and the CA files, when homeauth has a CA;
 * 3. anything else: 308 to the same host and path over https://.
 */
export function createPlainApp(options: PlainAppOptions): express.Express {
  const app = express()
  app.disable('x-powered-by')
  // The client's own address: nothing here is worth trusting a forwarded one for.
  app.set('trust proxy', false)
  app.set('etag', false)
  if (options.onRequest) {
    const write = options.onRequest
    app.use(accessLog((entry) => write({...entry, plainHttp: true})))
  }
  app.use(securityHeaders({styleHashes: [], hsts: false}))
  const page = unencryptedPage(options)
  const body = {
    message: `The password was sent unencrypted over plain HTTP and was refused unchecked. ${changePasswordAdvice(options)}, and use https://.`,
  }
  const credentialsAtStartup = options.credentialsAtStartup ?? false

  // First, whatever the path or method: the password has crossed the network in clear already. A
  // redirect would let the client carry on as if nothing had happened, and a check would tell anyone
  // who sends a guess this way whether it is right; the user has to change the password instead.
  app.use(function refuseCredentials(req: Request, res: Response, next: NextFunction) {
    if (req.headers.authorization === undefined) return next()
    options.onUnencryptedCredentials?.({
      address: req.socket.remoteAddress ?? 'unknown',
      method: req.method,
      path: req.path,
      credentialsAtStartup,
    })
    res.status(400)
    if (req.accepts(['json', 'html']) === 'html') res.type('html').send(page)
    else res.json(body)
  })

  if (options.authority) {
    const onboarding = Router()
    addOnboardingRoutes(onboarding, options.authority, {pagePaths: ['/', '/trust']})
    app.use(function onboardDevices(req: Request, res: Response, next: NextFunction) {
      if (req.method === 'GET' || req.method === 'HEAD') return void onboarding(req, res, next)
      next()
    })
  }

  app.use(function redirectToHttps(req: Request, res: Response) {
    // The Host header comes from the client: only a host name or an address (and a port) may lead
    // the Location, and only a path may follow it, so no request can send a browser elsewhere.
    const origin = httpsOrigin(req.get('host'))
    if (origin === undefined || !req.originalUrl.startsWith('/')) {
      return void res.status(400).json({message: 'The Host header or the request target is not valid here.'})
    }
    res.redirect(308, `${origin}${req.originalUrl}`)
  })
  app.use(answerErrors(options.onError))
  return app
}
