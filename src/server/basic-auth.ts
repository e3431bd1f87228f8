import parseBasicAuth from 'basic-auth'
import type {NextFunction, Request, RequestHandler, Response} from 'express'

import {credentialProblem, normalizeCredentials, type Credentials} from '../credentials/credentials.js'
import type {CredentialVerifier} from '../credentials/verifier.js'

export const defaultRealm = 'homeauth'

/** The recipe's 401 body, kept byte for byte so its clients keep working. */
export const authenticateBody = {message: 'Authenticate.'}

const unauthorizedPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in required</title></head>
<body><h1>Sign in required</h1><p>This page is protected by homeauth. Reload it to enter the user name and password.</p></body></html>
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

export interface BasicAuthOptions {
  realm: string
  verifier: CredentialVerifier
}

/** Checks a realm once, at start-up: it travels in a quoted-string (RFC 9110 §5.6.4). */
export function realmProblem(realm: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (realm === '' || /["\\\u0000-\u001f\u007f]/.test(realm)) {
    return `The realm ${JSON.stringify(realm)} must be non-empty text without quotes, backslashes or control characters.`
  }
  return undefined
}

/** Express middleware: lets requests with valid Basic credentials through, answers 401 to the rest. */
export function basicAuth(options: BasicAuthOptions): RequestHandler {
  const problem = realmProblem(options.realm)
  if (problem) throw new TypeError(problem)
  const challenge = `Basic realm="${options.realm}", charset="UTF-8"`

  function challengeClient(req: Request, res: Response): void {
    res.status(401).set('WWW-Authenticate', challenge).set('Cache-Control', 'no-store')
    if (req.accepts(['json', 'html']) === 'html') res.type('html').send(unauthorizedPage)
    else res.json(authenticateBody)
  }

  return async function requireBasicAuth(req: Request, res: Response, next: NextFunction) {
    const credentials = parseAuthorization(req.headers.authorization)
    if (!credentials) return challengeClient(req, res)
    res.locals.user = credentials.username
    if (await options.verifier.verify(credentials)) return next()
    challengeClient(req, res)
  }
}
