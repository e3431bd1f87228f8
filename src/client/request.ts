import {X509Certificate} from 'node:crypto'
import type {IncomingHttpHeaders} from 'node:http'
import https from 'node:https'
import tls from 'node:tls'

import {normalizeCredentials, type Credentials} from '../credentials/credentials.js'
import {errorCode} from '../errors.js'
import {connectHost, httpsPort, serverName} from './endpoint.js'

export interface SecretRequest {
  /** The full endpoint, e.g. https://localhost:8443/api/secret */
  url: URL
  /** PEM of the one CA to trust; undefined only with `insecure`. */
  ca?: string
  credentials: Credentials
  /** Skip certificate verification entirely (the user asked for it with --insecure). */
  insecure?: boolean
  /** For the whole exchange, retries included. */
  timeoutMs: number
  /** Further attempts after a connection reset before any byte of the answer. */
  retries?: number
}

/** A complete HTTP answer, whatever its status. */
export interface Answer {
  status: number
  statusMessage: string
  headers: IncomingHttpHeaders
  body: string
}

export const maxAnswerBytes = 64 * 1024

/** The deadline passed before the whole answer came back. */
export class DeadlinePassed extends Error {}

/** The answer grew past `maxAnswerBytes`. */
export class AnswerTooLarge extends Error {}

/** The connection was reset before any byte of an answer; carries the socket error's code. */
class ResetBeforeAnswer extends Error {
  readonly code: string | undefined

  constructor(error: Error) {
    super(error.message, {cause: error})
    this.code = errorCode(error)
  }
}

function getOnce(request: SecretRequest, deadline: number): Promise<Answer> {
  const {username, password} = normalizeCredentials(request.credentials)
  const authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
  return new Promise((resolve, reject) => {
    let answered = false
    const outgoing = https.request(request.url, {
      method: 'GET',
      headers: {authorization, accept: 'application/json'},
      agent: false,
      // Exactly the homeauth CA, never the system store; verification is off only with --insecure.
      ca: request.ca,
      rejectUnauthorized: !request.insecure,
      servername: serverName(request.url),
      minVersion: 'TLSv1.2',
    })
    const timer = setTimeout(() => outgoing.destroy(new DeadlinePassed()), Math.max(0, deadline - Date.now()))
    outgoing.on('response', (response) => {
      answered = true
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
        if (body.length > maxAnswerBytes) outgoing.destroy(new AnswerTooLarge())
      })
      response.on('end', () => {
        clearTimeout(timer)
        resolve({
          status: response.statusCode ?? 0,
          statusMessage: response.statusMessage ?? '',
          headers: response.headers,
          body,
        })
      })
      response.on('error', reject)
    })
    outgoing.on('error', (error) => {
      clearTimeout(timer)
      const reset = ['ECONNRESET', 'EPIPE'].includes(errorCode(error) ?? '') && !answered
      reject(reset ? new ResetBeforeAnswer(error) : error)
    })
    outgoing.end()
  })
}

/**
 * One GET with Basic auth, trusting exactly the given CA, within `timeoutMs`; resolves with the
 * answer whatever its status, or rejects with the transport error (DeadlinePassed, AnswerTooLarge,
 * or a socket or TLS error with its code).
 */
export async function getWithBasicAuth(request: SecretRequest): Promise<Answer> {
  const deadline = Date.now() + request.timeoutMs
  const retries = request.retries ?? 2
  for (let tries = 0; ; tries++) {
    try {
      return await getOnce(request, deadline)
    } catch (error) {
      // Safe to repeat: the reset came before any byte of an answer, and the request is a GET.
      if (error instanceof ResetBeforeAnswer && tries < retries && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100 * (tries + 1)))
        continue
      }
      throw error
    }
  }
}

/**
 * The fingerprint of the certificate a server presents, read on a connection that sends nothing:
 * only used to tell the user which certificate failed verification.
 */
export function presentedFingerprint(url: URL, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: connectHost(url),
      port: httpsPort(url),
      servername: serverName(url),
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
