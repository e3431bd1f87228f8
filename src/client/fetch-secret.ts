import {X509Certificate} from 'node:crypto'
import type {IncomingMessage} from 'node:http'
import https from 'node:https'
import {isIP} from 'node:net'
import tls from 'node:tls'

import {normalizeCredentials, type Credentials} from '../credentials/credentials.js'
import {ExitCode, HomeauthError, errorCode, usageError} from '../errors.js'

export interface FetchOptions {
  /** The full endpoint, e.g. https://localhost:8443/api/secret */
  url: URL
  /** PEM of the one CA to trust; undefined only with `insecure`. */
  ca?: string
  /** Where `ca` came from, for messages. */
  caFile?: string
  credentials: Credentials
  /** Skip certificate verification entirely (the user asked for it with --insecure). */
  insecure?: boolean
  timeoutMs: number
  /** Further attempts after a connection reset before any byte of the answer. */
  retries?: number
}

/** Turns --url into the endpoint: a base URL gets /api/secret, a full endpoint is kept. */
export function endpointUrl(input: string): URL {
  let url: URL
  try {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) throw new TypeError('no scheme')
    url = new URL(input)
  } catch {
    throw usageError(`${JSON.stringify(input)} is not a URL.`, [
      'Pass one like https://localhost:8443 or https://pi.local:8443/api/secret.',
    ])
  }
  if (url.protocol !== 'https:') {
    throw usageError(`${url.protocol.slice(0, -1)} URLs are not supported: homeauth only talks HTTPS.`, [
      `Use https://${url.host}${url.pathname === '/' ? '' : url.pathname}`,
    ])
  }
  if (url.username || url.password) {
    throw usageError('Credentials in the URL would end up in shell history.', [
      'Use --username with --password-stdin or HOMEAUTH_PASSWORD.',
    ])
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/api/secret'
  return url
}

const untrustedCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
])
const notTlsCodes = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'EPROTO'])

function origin(url: URL): string {
  return `${url.hostname}:${url.port || 443}`
}

function servername(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return isIP(host) ? undefined : host
}

/**
 * The fingerprint of the certificate a server presents, read on a connection that sends nothing:
 * only used to tell the user which certificate failed verification.
 */
function peekFingerprint(url: URL, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 443),
      servername: servername(url),
      rejectUnauthorized: false,
      timeout: timeoutMs,
    })
    const done = (fingerprint?: string) => {
      socket.destroy()
      resolve(fingerprint)
    }
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw
      done(raw ? new X509Certificate(raw).fingerprint256 : undefined)
    })
    socket.once('error', () => done())
    socket.once('timeout', () => done())
  })
}

async function untrusted(error: Error, options: FetchOptions): Promise<HomeauthError> {
  const code = errorCode(error)
  const fingerprint = await peekFingerprint(options.url, options.timeoutMs)
  const shown = fingerprint ? ` Its SHA-256 fingerprint is ${fingerprint}.` : ''
  const trusted = options.caFile ?? 'the homeauth CA'
  const message =
    code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? `The server's certificate is not valid for ${options.url.hostname}.${shown}`
      : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
        ? `The server's certificate is outside its validity period (${code}).${shown}`
        : `The server's certificate is not signed by the CA in ${trusted}.${shown}`
  return new HomeauthError(message, {
    exitCode: ExitCode.untrustedCertificate,
    suggestions: [
      code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'Use a host name the certificate lists (see homeauth cert), or add it with homeauth cert renew --san <name>.'
        : "If this is your homeauth server, pass its CA with --ca <file> (ca.pem in the server's config directory).",
    ],
    cause: error,
  })
}

async function describeFailure(error: Error, options: FetchOptions): Promise<Error> {
  const code = errorCode(error) ?? ''
  const where = origin(options.url)
  if (untrustedCodes.has(code)) return untrusted(error, options)
  if (unreachableCodes.has(code)) {
    const reason =
      code === 'ECONNREFUSED'
        ? 'nothing is listening there'
        : code === 'ENOTFOUND'
          ? 'the name does not resolve'
          : code
    return new HomeauthError(`Cannot reach the server at ${where}: ${reason}.`, {
      exitCode: ExitCode.notRunning,
      suggestions: [
        'Start it with: homeauth serve (or check it with homeauth status), or pass the right --url.',
      ],
      cause: error,
    })
  }
  if (
    notTlsCodes.has(code) ||
    /wrong version number|packet length too long|http request/i.test(error.message)
  ) {
    return new HomeauthError(`The server at ${where} did not answer with TLS (is it plain HTTP?).`, {
      exitCode: ExitCode.unexpectedResponse,
      suggestions: ['Check the port in --url: homeauth serves HTTPS only.'],
      cause: error,
    })
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new HomeauthError(`The server at ${where} closed the connection.`, {
      exitCode: ExitCode.notRunning,
      suggestions: ['Check that it is a homeauth server, and its log.'],
      cause: error,
    })
  }
  return error
}

interface Answer {
  response: IncomingMessage
  body: string
}

class ResetBeforeAnswer extends Error {}

function attempt(options: FetchOptions, deadline: number): Promise<Answer> {
  const {username, password} = normalizeCredentials(options.credentials)
  const authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
  return new Promise((resolve, reject) => {
    let answered = false
    const request = https.request(options.url, {
      method: 'GET',
      headers: {authorization, accept: 'application/json'},
      agent: false,
      // Exactly the homeauth CA, never the system store; verification is off only with --insecure.
      ca: options.ca,
      rejectUnauthorized: !options.insecure,
      servername: servername(options.url),
      minVersion: 'TLSv1.2',
    })
    const timer = setTimeout(
      () => {
        request.destroy(
          new HomeauthError(
            `No answer from ${origin(options.url)} within ${options.timeoutMs / 1000} seconds.`,
            {exitCode: ExitCode.timedOut},
          ),
        )
      },
      Math.max(0, deadline - Date.now()),
    )
    request.on('response', (response) => {
      answered = true
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
        if (body.length > 64 * 1024)
          request.destroy(
            new HomeauthError('The answer is larger than 64 KiB.', {exitCode: ExitCode.unexpectedResponse}),
          )
      })
      response.on('end', () => {
        clearTimeout(timer)
        resolve({response, body})
      })
      response.on('error', reject)
    })
    request.on('error', (error) => {
      clearTimeout(timer)
      const reset = ['ECONNRESET', 'EPIPE'].includes(errorCode(error) ?? '') && !answered
      reject(
        reset
          ? Object.assign(new ResetBeforeAnswer(error.message, {cause: error}), {code: errorCode(error)})
          : error,
      )
    })
    request.end()
  })
}

function retryAfterSeconds(header: string | undefined): number | undefined {
  if (header === undefined) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds))
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000))
}

function readAnswer({response, body}: Answer, options: FetchOptions): string {
  const status = response.statusCode ?? 0
  if (status === 401) {
    return fail(
      `The server rejected the credentials for ${options.credentials.username}.`,
      ExitCode.credentialsRejected,
      ['Check the user name and password; change them with homeauth passwd.'],
    )
  }
  if (status === 429) {
    const wait = retryAfterSeconds(response.headers['retry-after'] as string | undefined)
    const after = wait === undefined ? 'a while' : `${wait} seconds`
    return fail(
      `Too many failed logins from this address: the server asks to wait ${after}.`,
      ExitCode.throttled,
      [`Try again after ${after}, with the right password.`],
    )
  }
  if (status !== 200) {
    return fail(
      `The server answered ${status} ${response.statusMessage ?? ''}`.trimEnd() + '.',
      ExitCode.unexpectedResponse,
      [`Check that ${options.url.href} is a homeauth server's /api/secret.`],
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    parsed = undefined
  }
  const message = (parsed as {message?: unknown} | undefined)?.message
  if (typeof parsed !== 'object' || parsed === null || typeof message !== 'string') {
    return fail('The server did not answer with {"message": "..."} JSON.', ExitCode.unexpectedResponse, [
      `Check that ${options.url.href} is a homeauth server's /api/secret.`,
    ])
  }
  return message
}

function fail(message: string, exitCode: ExitCode, suggestions: string[]): never {
  throw new HomeauthError(message, {exitCode, suggestions})
}

/** GET /api/secret with Basic auth, trusting exactly the given CA; returns the message or throws a HomeauthError. */
export async function fetchSecret(options: FetchOptions): Promise<string> {
  const deadline = Date.now() + options.timeoutMs
  const retries = options.retries ?? 2
  for (let tries = 0; ; tries++) {
    try {
      return readAnswer(await attempt(options, deadline), options)
    } catch (error) {
      if (error instanceof HomeauthError) throw error
      // Safe to repeat: the reset came before any byte of an answer, and the request is a GET.
      if (error instanceof ResetBeforeAnswer && tries < retries && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100 * (tries + 1)))
        continue
      }
      throw await describeFailure(error as Error, options)
    }
  }
}
