import type {RequestListener} from 'node:http'

import express, {type RequestHandler} from 'express'

import type {CredentialVerifier} from '../credentials/verifier.js'
import {accessLog, type AccessLogEntry} from './access-log.js'
import {
  basicAuth,
  defaultRealm,
  jsonContentType,
  LoginGate,
  signOut,
  type DevicePasswords,
  type FailedLogin,
} from './basic-auth.js'
import {withDirectAnswers} from './direct-answers.js'
import {answerErrors} from './error-handler.js'
import {checkProxyRequest, forwardAuthPath, forwardAuthVerdict, type UntrustedProxy} from './forward-auth.js'
import {addOnboardingRoutes, methodNotAllowed, type OnboardingAuthority} from './onboarding.js'
import {loadIndexPage} from './page.js'
import {securityHeaderFields, securityHeaders, type SecurityHeaderOptions} from './security-headers.js'
import type {SignInLog} from './sign-ins.js'
import {LoginThrottle} from './throttle.js'
import {proxyTrust} from './trusted-proxies.js'

export interface AppOptions {
  secret: string
  verifier: CredentialVerifier
  /** The devices' own passwords, when the stored users are checked. */
  devices?: DevicePasswords
  realm?: string
  frameAncestors?: string[]
  onRequest?: (entry: AccessLogEntry) => void
  /** Counts failed logins per client and locks out guessers; a default one when absent. */
  throttle?: LoginThrottle
  /** Addresses and CIDR ranges of the reverse proxies whose X-Forwarded-For is believed (--trust-proxy). */
  trustProxy?: string[]
  /** /auth was asked with forwarding headers by a local address that is not among them. */
  onUntrustedProxy?: (proxy: UntrustedProxy) => void
  onFailedLogin?: (failure: FailedLogin) => void
  /** Records accepted logins, for `homeauth status --clients`. */
  signIns?: SignInLog
  /** Called with errors that are bugs (answered 500), for the server's error output. */
  onError?: (error: Error) => void
  /** The local CA, served on the public onboarding routes; absent with the user's own certificate. */
  authority?: OnboardingAuthority
  /** The credentials came with the server's start (-u/-p …): the 401 page then says passwd cannot help. */
  credentialsAtStartup?: boolean
}

/** A JSON body that is the same every time, serialised once. */
const jsonBody = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))

/** Answers with `body`, as res.json would send it. */
function sendFixedJson(body: Buffer): RequestHandler {
  return function sendJson(_req, res) {
    res.setHeader('Content-Type', jsonContentType)
    res.send(body)
  }
}

/** An express app with what every listener's answers carry: the access log and the security headers. */
function baseApp(options: Pick<AppOptions, 'onRequest'>, headerOptions: SecurityHeaderOptions) {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  if (options.onRequest) app.use(accessLog(options.onRequest))
  // Every response, from the first middleware on, so no path can answer without them.
  app.use(securityHeaders(headerOptions))
  return app
}

type ForwardAuthOptions = Pick<
  AppOptions,
  | 'verifier'
  | 'devices'
  | 'realm'
  | 'trustProxy'
  | 'onUntrustedProxy'
  | 'onFailedLogin'
  | 'signIns'
  | 'authority'
  | 'credentialsAtStartup'
>

/**
 * Adds `/auth` (the proxies' question) and returns the login middleware it uses, with what the
 * answers written without express need: the verifier and the throttle are the ones given, so every
 * listener and path counts a client's failures together.
 */
function addForwardAuth(app: express.Express, options: ForwardAuthOptions, throttle: LoginThrottle) {
  // Only the listed proxies: X-Forwarded-For from anyone else would let a guesser pick its address.
  const trust = proxyTrust(options.trustProxy ?? [])
  const gate = new LoginGate({
    verifier: options.verifier,
    devices: options.devices,
    throttle,
    onFailedLogin: options.onFailedLogin,
    signIns: options.signIns,
  })
  const requireLogin = basicAuth(gate, {
    realm: options.realm ?? defaultRealm,
    trust,
    credentialsAtStartup: options.credentialsAtStartup,
    // Only where /trust is served: not with --cert/--key, nor on --auth-listen (its 401 reaches browsers through a proxy).
    trustPage: options.authority !== undefined,
  })
  const proxyRequest = {trust, onUntrustedProxy: options.onUntrustedProxy}
  app.all(forwardAuthPath, checkProxyRequest(proxyRequest), requireLogin, forwardAuthVerdict())
  return {requireLogin, direct: {gate, ...proxyRequest}}
}

export type AuthAppOptions = Omit<AppOptions, 'secret' | 'authority' | 'frameAncestors' | 'throttle'> & {
  throttle: LoginThrottle
}

const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({message: 'Not found.'})
}

/**
 * The app of --auth-listen: `/auth` alone, and 404 for every other path without reading credentials
 * (nothing else is served there). It needs the server's throttle, shared with the main app.
 */
export function createAuthApp(options: AuthAppOptions): RequestListener {
  const headerOptions = {styleHashes: []}
  const app = baseApp(options, headerOptions)
  const {direct} = addForwardAuth(app, options, options.throttle)
  app.use(notFound)
  app.use(answerErrors(options.onError))
  return withDirectAnswers(app, {
    ...direct,
    headers: securityHeaderFields(headerOptions),
    onRequest: options.onRequest,
  })
}

/** Builds the express app (without listening): `/healthz` is open, every other path needs Basic auth first. */
export function createApp(options: AppOptions): RequestListener {
  const page = loadIndexPage(options.secret)
  const headerOptions = {styleHashes: page.styleHashes, frameAncestors: options.frameAncestors}
  const app = baseApp(options, headerOptions)

  // Before basic auth: a sign-out reads no credentials, so it can never count as a failed login.
  app.get('/logout', signOut(options.realm ?? defaultRealm))
  app.get('/healthz', sendFixedJson(jsonBody({status: 'ok'})))
  // Public too, before authentication: a device must fetch the CA before it can trust this server.
  if (options.authority) addOnboardingRoutes(app, options.authority)
  const {requireLogin, direct} = addForwardAuth(app, options, options.throttle ?? new LoginThrottle())
  app.use(requireLogin)
  const secret = jsonBody({message: options.secret})
  // The API first: scripts poll it, so it is the path answered most.
  app.route('/api/secret').get(sendFixedJson(secret)).all(methodNotAllowed)
  app
    .route('/')
    .get((_req, res) => {
      const {user, device} = res.locals as {user: string; device?: string}
      res.type('html').send(page.render({user, device, servedAt: new Date()}))
    })
    .all(methodNotAllowed)
  // Behind auth like the page that loads it: it holds no secret, but then the open paths stay the
  // listed few, and the browser sends the page's credentials with it anyway.
  app
    .route('/app.js')
    .get((_req, res) => {
      res.type('text/javascript').send(page.script)
    })
    .all(methodNotAllowed)
  app.all('/logout', methodNotAllowed)

  // Browsers ask for an icon on every visit: answer with nothing rather than a 404 in their console.
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end()
  })

  app.use(notFound)
  app.use(answerErrors(options.onError))
  return withDirectAnswers(app, {
    ...direct,
    headers: securityHeaderFields(headerOptions),
    secret,
    onRequest: options.onRequest,
  })
}
