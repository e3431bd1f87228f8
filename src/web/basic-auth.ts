import parseBasicAuth from 'basic-auth'
import type {IncomingMessage, ServerResponse} from 'node:http'

import type {NextFunction, Request, RequestHandler, Response} from 'express'

import {realmProblem, settingDefaults} from '../config/stored-settings.js'
import {credentialProblem, normalizeCredentials, type Credentials} from '../credentials/credentials.js'
import type {CredentialCheck, CredentialVerifier} from '../credentials/verifier.js'
import {publicHomeauthCommand} from '../invocation.js'
import {changePasswordAdvice, htmlCode, type PasswordAdvice} from './password-advice.js'
import type {SignInLog} from './sign-ins.js'
import {clientAddress, type ProxyTrust} from './trusted-proxies.js'
import type {LoginResult, LoginThrottle, PrefixCount} from './throttle.js'

export const defaultRealm = settingDefaults.realm

/** The recipe's 401 body, kept byte for byte so its clients keep working. */
export const authenticateBody = {message: 'Authenticate.'}

// Browsers get these pages with a 401. No styles (the CSP would need their hashes): the viewport and
// color-scheme tags make them readable on a phone and follow its light or dark theme.
const pageHead = (title: string): string =>
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>${title}</title></head>
<body><h1>${title}</h1>`

/** The 401 page for browsers; the link to /trust only where that page is served (not with --cert/--key). */
function unauthorizedPage(advice: PasswordAdvice & {trustPage: boolean}): string {
  return `${pageHead('Sign in required')}
<p>This page is protected by homeauth. Reload it and sign in with the user name and password set with
<code>${publicHomeauthCommand('init')}</code> (or given to <code>${publicHomeauthCommand('serve')}</code>) on the server.</p>
<p>Forgot the password? ${changePasswordAdvice(advice, htmlCode)}.</p>
${
  advice.trustPage
    ? `<p>Does this device warn that the connection is not private? It does not trust homeauth's certificate
authority yet: <a href="/trust">install it first</a>.</p>
`
    : ''
}</body></html>
`
}

const signedOutPage = `${pageHead('Signed out')}
<p>This browser has been asked to forget the user name and password for this site. If it asks for them
again now, cancel.</p>
<p>Some browsers keep them until they are closed: closing the browser (every window) always works.
Nothing changes on the server: other browsers and devices stay signed in, and the password stays the
same.</p>
<p><a href="/">Sign in again</a></p>
</body></html>
`

/**
 * Parses an Authorization header by RFC 7617: scheme case-insensitive, user and password split at
 * the first colon, UTF-8, NFC. Credentials with control characters are treated as absent.
 */
export function parseAuthorization(header: string | undefined): Credentials | undefined {
  const parsed = parseBasicAuth.parse(header ?? '')
  if (!parsed) return undefined
  const credentials = {username: parsed.name, password: parsed.pass}
  if (
    credentialProblem('user name', credentials.username) ||
    credentialProblem('password', credentials.password)
  ) {
    return undefined
  }
  return normalizeCredentials(credentials)
}

/** Every Authorization header as sent (`req.headersDistinct` would build arrays for all headers). */
function authorizationHeaders(rawHeaders: string[]): string[] {
  const values: string[] = []
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!
    if (name.length === 13 && name.toLowerCase() === 'authorization') values.push(rawHeaders[index + 1]!)
  }
  return values
}

export interface FailedLogin {
  address: string
  /** The user name tried, if the header could be read. */
  user: string | undefined
  /** Failures counted against this client in the current window (0 once it is locked out). */
  failures: number
  /** Set when this failure locked the client out. */
  lockedForSeconds: number | undefined
  /** For an address of the server's LAN: its prefix's failures, or the prefix's lockout. */
  prefix?: PrefixCount
}

/** The devices' own passwords (`device add`), checked before the throttle. */
export interface DevicePasswords {
  /** The device's name when `credentials` are its user and its password (the sign-in then recorded), else undefined. */
  signIn(credentials: Credentials, address: string): string | undefined
}

export interface LoginGateOptions {
  verifier: CredentialVerifier
  devices?: DevicePasswords
  throttle: LoginThrottle
  /** Where accepted logins are recorded, for `homeauth status --clients`. */
  signIns?: SignInLog
  onFailedLogin?: (failure: FailedLogin) => void
}

export interface BasicAuthOptions extends PasswordAdvice {
  realm: string
  /** This server serves /trust (it has a local CA), which the 401 page may then point to. */
  trustPage?: boolean
  /** The reverse proxies whose X-Forwarded-For names the client (see trusted-proxies). */
  trust: ProxyTrust | false
}

/** The WWW-Authenticate challenge for `realm`, which is checked first. */
function challengeFor(realm: string): string {
  const problem = realmProblem(realm)
  if (problem) throw new TypeError(problem)
  return `Basic realm="${realm}", charset="UTF-8"`
}

/**
 * GET /logout. Basic auth has no sign-out; the known workaround is a 401 with the same challenge,
 * which makes browsers drop the credentials they keep for the realm (some keep them until they
 * close). The Authorization header is never read: signing out is not a login attempt, so it is
 * never counted, throttled or reported as a failed one.
 */
export function signOut(realm: string): RequestHandler {
  const challenge = challengeFor(realm)
  return function answerSignOut(_req: Request, res: Response) {
    res.status(401).set('WWW-Authenticate', challenge).set('Cache-Control', 'no-store')
    res.type('html').send(signedOutPage)
  }
}

/** A header that names no usable credentials: a failed login, settled at once without hashing. */
const unreadableCredentials: CredentialCheck = {
  digest: '',
  answerAtOnce: () => false,
  hash: async () => false,
}

/**
 * What a request's credentials come to, before any answer is written: `user` is the name presented
 * (for the access log), `device` the device whose own password signed in. `several-headers` is a
 * 400, `no-credentials` a challenge (how every browser starts, never a failure); the rest are the
 * throttle's verdicts (see `LoginResult`).
 */
export type LoginDecision =
  | {verdict: 'several-headers' | 'no-credentials'}
  | ({user: string | undefined} & Exclude<LoginResult, {verdict: 'verified'}>)
  | {verdict: 'verified'; user: string; device?: string}

/**
 * Decides logins: the devices' passwords, the throttle, the verifier, and what an accepted or failed
 * login records. Used by the `basicAuth` middleware and by the answers written without express
 * (`direct-answers.ts`), which may decide a request first and leave the answer to express.
 */
export class LoginGate {
  /** Decisions made before the request reached express, for express to answer. */
  private readonly early = new WeakMap<IncomingMessage, LoginDecision | Promise<LoginDecision>>()

  constructor(private readonly options: LoginGateOptions) {}

  /**
   * The decision on `req` from the client at `address`: synchronous unless a check waits for hashing.
   * Calling it counts (a failure, a success), so a request is decided once: see `keep`.
   */
  decide(req: IncomingMessage, address: string): LoginDecision | Promise<LoginDecision> {
    const {options} = this
    // Authorization is not a list field, so it may appear once (RFC 9110 §5.3). Node keeps the first
    // of several and a proxy in front may believe the last: refuse instead, before the throttle or
    // the verifier sees either, so nothing is read and no failure is counted.
    const headers = authorizationHeaders(req.rawHeaders)
    if (headers.length > 1) return {verdict: 'several-headers'}
    const header = headers[0]
    if (header === undefined) return {verdict: 'no-credentials'}
    const credentials = parseAuthorization(header)
    // Never locked out: a right device password is admitted before the throttle is asked, even from a
    // client it has locked out. That gives a guesser nothing: the check costs one HMAC, compares only
    // against the devices' hashes (never the cache or a user's own hash, so it says nothing about
    // that password), and a 128-bit random secret cannot be guessed. It counts neither way, so the
    // owner's phone signing in does not clear the failures of a guesser on the same address; a wrong
    // password goes on to the throttle and counts as a failure as any other.
    const device = credentials && options.devices?.signIn(credentials, address)
    if (device !== undefined) {
      options.signIns?.record(credentials!.username, address, device)
      return {verdict: 'verified', user: credentials!.username, device}
    }
    // Decided before any cache or hash is consulted, so a locked-out client learns nothing.
    const admission = options.throttle.admit(address)
    if (admission.verdict !== 'admitted') return {...admission, user: undefined}
    const user = credentials?.username
    const result = admission.check(credentials ? options.verifier.check(credentials) : unreadableCredentials)
    // Only a check that waits for hashing is asynchronous; everything else is decided in this turn.
    return result instanceof Promise
      ? result.then((settled) => this.recorded(settled, user, address))
      : this.recorded(result, user, address)
  }

  /** Keeps the decision on `req`, made before it reached express, for express to answer (`decisionFor`). */
  keep(req: IncomingMessage, decision: LoginDecision | Promise<LoginDecision>): void {
    this.early.set(req, decision)
  }

  /** The decision kept for `req`, else a new one. */
  decisionFor(req: IncomingMessage, address: string): LoginDecision | Promise<LoginDecision> {
    return this.early.get(req) ?? this.decide(req, address)
  }

  /** The result as a decision, with the sign-in or the failure recorded. */
  private recorded(result: LoginResult, user: string | undefined, address: string): LoginDecision {
    if (result.verdict === 'verified') {
      this.options.signIns?.record(user!, address)
      return {verdict: 'verified', user: user!}
    }
    if (result.verdict === 'busy' || result.verdict === 'rejected') {
      const {failures, lockedForSeconds, prefix} = result
      this.options.onFailedLogin?.({address, user, failures, lockedForSeconds, prefix})
    }
    return {...result, user}
  }
}

/** A decision that refuses the request whoever it is from: too many failures, or no room to check. */
export type Refusal = Extract<LoginDecision, {verdict: 'locked-out' | 'no-room' | 'hashing-full' | 'busy'}>

export function isRefusal(decision: LoginDecision): decision is Refusal {
  return 'retryAfterSeconds' in decision
}

export const jsonContentType = 'application/json; charset=utf-8'

const refusals: Record<Refusal['verdict'], {status: number; body: Buffer}> = {
  'locked-out': {status: 429, body: Buffer.from('{"message":"Too many failed logins; try again later."}')},
  // A new client while every tracked one is locked out: refused rather than have a lockout forgotten.
  'no-room': {status: 503, body: Buffer.from('{"message":"Too many clients locked out; try again later."}')},
  'hashing-full': {status: 503, body: Buffer.from('{"message":"Busy checking credentials; try again."}')},
  busy: {status: 503, body: Buffer.from('{"message":"Busy checking credentials; try again."}')},
}

/**
 * Writes a refusal (429, 503) with `Retry-After`, after `headers` (names and values, as `writeHead`
 * takes them) and any set before: the security headers with `Cache-Control: no-store`, set by
 * express's middleware or given here, so that the answer is the same either way (see direct-answers.ts).
 */
export function refuse(res: ServerResponse, refusal: Refusal, headers: string[] = []): void {
  const {status, body} = refusals[refusal.verdict]
  // A locked-out client's connection is closed after its 429, not answered thousands of times a second.
  const closing = refusal.verdict === 'locked-out' ? ['Connection', 'close'] : []
  res.writeHead(status, [
    ...headers,
    ...closing,
    'Retry-After',
    String(refusal.retryAfterSeconds),
    'Content-Type',
    jsonContentType,
    'Content-Length',
    String(body.length),
  ])
  res.end(body)
}

/**
 * Express middleware: lets requests with valid Basic credentials through and answers 401 to the
 * rest; 429 to a client locked out for failed logins; 503 when the client already has as many checks
 * waiting as it may (counted as a failure), when too many clients wait for hashing, or to a new client
 * when the throttle has no room to track it. A cached login is answered synchronously.
 */
export function basicAuth(gate: LoginGate, options: BasicAuthOptions): RequestHandler {
  const challenge = challengeFor(options.realm)
  const page = unauthorizedPage({...options, trustPage: options.trustPage ?? false})

  function challengeClient(req: Request, res: Response): void {
    res.status(401).set('WWW-Authenticate', challenge).set('Cache-Control', 'no-store')
    if (req.accepts(['json', 'html']) === 'html') res.type('html').send(page)
    else res.json(authenticateBody)
  }

  function answer(req: Request, res: Response, next: NextFunction, decision: LoginDecision): void {
    if ('user' in decision) res.locals.user = decision.user
    switch (decision.verdict) {
      case 'several-headers':
        return void res
          .status(400)
          .set('Cache-Control', 'no-store')
          .json({message: 'Send one Authorization header.'})
      case 'no-credentials':
      case 'rejected':
        return challengeClient(req, res)
      case 'verified':
        res.locals.device = decision.device
        return next()
      case 'locked-out':
      case 'no-room':
      case 'hashing-full':
      case 'busy':
        return refuse(res, decision)
    }
  }

  return function requireBasicAuth(req: Request, res: Response, next: NextFunction) {
    const decision = gate.decisionFor(req, clientAddress(req, options.trust))
    if (decision instanceof Promise) decision.then((settled) => answer(req, res, next, settled), next)
    else answer(req, res, next, decision)
  }
}
