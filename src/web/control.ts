import type {IncomingMessage, RequestListener, ServerResponse} from 'node:http'

import type {SignInLog} from './sign-ins.js'
import {parseClientTarget, type LoginThrottle, type Lockout} from './throttle.js'

/** A client locked out now, as `GET /clients` and `homeauth status --clients --json` give it. */
export interface LockedClient {
  /** An IPv4 address, an IPv6 address of the LAN, an IPv6 /64, or a LAN prefix: what `homeauth unlock` takes. */
  client: string
  kind: Lockout['kind']
  since: string
  until: string
  failures: number
  lockouts: number
}

/** One user's latest sign-in from one address, with a device's password or their own. */
export interface SignInEntry {
  user: string
  device?: string
  address: string
  at: string
}

/** What `GET /clients` answers: who is locked out, and who signed in last. */
export interface ClientsReport {
  lockedOut: LockedClient[]
  signIns: SignInEntry[]
}

/** What `POST /unlock` answers. */
export interface UnlockReport {
  /** The throttle's key for the address given. */
  client: string
  /** Whether it was locked out; false when nothing was locked for it. */
  unlocked: boolean
  /** The LAN prefix that still locks the address out as a whole, else null. */
  lockedPrefix: string | null
}

/** The body of `POST /unlock`. */
export interface UnlockRequest {
  client: string
}

export const controlPaths = {clients: '/clients', unlock: '/unlock'} as const

/** An unlock request's body is one address: anything longer is not one. */
const maxBodyBytes = 1024

export interface ControlOptions {
  throttle: LoginThrottle
  signIns: SignInLog
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {'Content-Type': 'application/json; charset=utf-8', ...headers})
  res.end(JSON.stringify(body))
}

function clientsReport(options: ControlOptions): ClientsReport {
  const iso = (time: number) => new Date(time).toISOString()
  return {
    lockedOut: options.throttle
      .lockouts()
      .map(({client, kind, lockedAt, lockedUntil, failures, lockouts}) => ({
        client,
        kind,
        since: iso(lockedAt),
        until: iso(lockedUntil),
        failures,
        lockouts,
      })),
    signIns: options.signIns.latest().map(({at, ...signIn}) => ({...signIn, at: iso(at)})),
  }
}

/** The request's body, up to `maxBodyBytes`; undefined when it is longer. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length
    if (length > maxBodyBytes) return undefined
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The canonical target of an unlock request's body `{"client": ADDRESS}`, or undefined. */
function unlockTarget(body: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body ?? '') as Partial<UnlockRequest> | null
    return typeof parsed?.client === 'string' ? parseClientTarget(parsed.client) : undefined
  } catch {
    return undefined
  }
}

async function unlock(req: IncomingMessage, res: ServerResponse, options: ControlOptions): Promise<void> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
    return send(res, 415, {message: 'Send the client as JSON: {"client": ADDRESS}.'})
  }
  const target = unlockTarget(await readBody(req))
  if (target === undefined) {
    return send(res, 400, {message: 'Send {"client": ADDRESS}: an IPv4 or IPv6 address, or an IPv6 prefix.'})
  }
  const {client, unlocked, lockedPrefix} = options.throttle.unlock(target)
  send(res, 200, {client, unlocked, lockedPrefix: lockedPrefix ?? null} satisfies UnlockReport)
}

/**
 * The control channel's answers (see startControlListener): `GET /clients` and `POST /unlock`, and
 * nothing else — any other path is 404, any other method 405, a query string 404. Whoever reaches
 * it is the config directory's owner (the socket's mode is the check), so it reads no credentials.
 */
export function controlHandler(options: ControlOptions): RequestListener {
  const routes: Record<
    string,
    {method: string; answer: (req: IncomingMessage, res: ServerResponse) => unknown}
  > = {
    [controlPaths.clients]: {method: 'GET', answer: (_req, res) => send(res, 200, clientsReport(options))},
    [controlPaths.unlock]: {method: 'POST', answer: (req, res) => unlock(req, res, options)},
  }
  return function answerControl(req, res) {
    const route = Object.hasOwn(routes, req.url ?? '') ? routes[req.url!] : undefined
    if (!route) return send(res, 404, {message: 'Not found.'})
    if (req.method !== route.method)
      return send(res, 405, {message: 'Method not allowed.'}, {Allow: route.method})
    void Promise.resolve(route.answer(req, res)).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)))
    })
  }
}
