import {ExitCode, HomeauthError, errorCode} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import {hostAndPort} from './endpoint.js'
import {AnswerTooLarge, DeadlinePassed, maxAnswerBytes, presentedFingerprint, type Answer} from './request.js'

export interface FailureContext {
  url: URL
  /** Where the trusted CA came from, for messages. */
  caFile?: string
  timeoutMs: number
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

async function untrustedCertificateError(error: Error, context: FailureContext): Promise<HomeauthError> {
  const code = errorCode(error)
  const fingerprint = await presentedFingerprint(context.url, context.timeoutMs)
  const shown = fingerprint ? ` Its server certificate fingerprint (SHA-256) is ${fingerprint}.` : ''
  const trusted = context.caFile ?? 'the homeauth CA'
  const message =
    code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? `The server's certificate is not valid for ${context.url.hostname}.${shown}`
      : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
        ? `The server's certificate is outside its validity period (${code}).${shown}`
        : `The server's certificate is not signed by the CA in ${trusted}.${shown}`
  return new HomeauthError(message, {
    exitCode: ExitCode.untrustedCertificate,
    suggestions: [
      code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? `Use a host name the certificate lists (see ${homeauthCommand('cert')}), or add it with ${homeauthCommand('cert renew --san <name>')}.`
        : "If this is your homeauth server, pass its CA with --ca <file> (ca.pem in the server's config directory).",
    ],
    cause: error,
  })
}

/**
 * The HomeauthError for a request that got no complete answer: timed out, too large, unreachable,
 * untrusted certificate, not TLS, or reset. Anything else is returned as it is (a bug).
 */
export async function transportFailure(error: Error, context: FailureContext): Promise<Error> {
  const where = hostAndPort(context.url)
  if (error instanceof DeadlinePassed) {
    return new HomeauthError(`No answer from ${where} within ${context.timeoutMs / 1000} seconds.`, {
      exitCode: ExitCode.timedOut,
    })
  }
  if (error instanceof AnswerTooLarge) {
    return new HomeauthError(`The answer is larger than ${maxAnswerBytes / 1024} KiB.`, {
      exitCode: ExitCode.unexpectedResponse,
    })
  }
  const code = errorCode(error) ?? ''
  if (untrustedCodes.has(code)) return untrustedCertificateError(error, context)
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
        `Start it with: ${homeauthCommand('serve')} (or check it with ${homeauthCommand('status')}), or pass the right --url.`,
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

/** Seconds to wait from a Retry-After header (RFC 9110 §10.2.3: delay-seconds or an HTTP-date). */
export function retryAfterSeconds(header: string | undefined): number | undefined {
  if (header === undefined) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds))
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000))
}

function fail(message: string, exitCode: ExitCode, suggestions: string[]): never {
  throw new HomeauthError(message, {exitCode, suggestions})
}

/**
 * The message of a 200 `{"message": "..."}` answer; any other answer throws the HomeauthError for
 * it: 401 credentials rejected, 429 throttled and 503 busy (with the server's wait), anything else
 * unexpected.
 */
export function secretFromAnswer(answer: Answer, context: {url: URL; username: string}): string {
  const notHomeauth = `Check that ${context.url.href} is a homeauth server's /api/secret.`
  if (answer.status === 401) {
    return fail(
      `The server rejected the credentials for ${context.username}.`,
      ExitCode.credentialsRejected,
      [`Check the user name and password; change them with ${homeauthCommand('passwd')}.`],
    )
  }
  // Both ask the client to come back later (Retry-After), which is what a script does on exit 5: 503
  // is homeauth busy hashing other logins, or full of locked-out clients, never a wrong answer.
  if (answer.status === 429 || answer.status === 503) {
    const wait = retryAfterSeconds(answer.headers['retry-after'])
    const after = wait === undefined ? 'a while' : `${wait} seconds`
    return answer.status === 429
      ? fail(
          `Too many failed logins from this address: the server asks to wait ${after}.`,
          ExitCode.throttled,
          [`Try again after ${after}, with the right password.`],
        )
      : fail(
          `The server is too busy to check the credentials now: it asks to wait ${after}.`,
          ExitCode.throttled,
          [`Try again after ${after}.`],
        )
  }
  if (answer.status !== 200) {
    return fail(
      `The server answered ${answer.status} ${answer.statusMessage}`.trimEnd() + '.',
      ExitCode.unexpectedResponse,
      [notHomeauth],
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(answer.body)
  } catch {
    parsed = undefined
  }
  const message = (parsed as {message?: unknown} | undefined)?.message
  if (typeof parsed !== 'object' || parsed === null || typeof message !== 'string') {
    return fail('The server did not answer with {"message": "..."} JSON.', ExitCode.unexpectedResponse, [
      notHomeauth,
    ])
  }
  return message
}
