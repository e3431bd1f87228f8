import {createHmac} from 'node:crypto'

export interface Credentials {
  username: string
  password: string
}

// RFC 7617 §2: user-id and password MUST NOT contain control characters (CTLs, NUL included).
// Checking before any hashing also matters: scrypt's inner HMAC pads keys with zeros, so `pw` and
// `pw\0` would otherwise hash alike. U+FFFD marks bytes that were not valid UTF-8 (RFC 7617 §2.1).
// The line and paragraph separators U+2028/U+2029 are refused too: the Basic-auth parser (jshttp's
// basic-auth) cannot carry them, so a password containing one could never be used.
// eslint-disable-next-line no-control-regex
const forbidden = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffd]/

/** Why `value` cannot be a user name or password, or undefined when it can. */
export function credentialProblem(kind: 'user name' | 'password', value: string): string | undefined {
  if (value === '') return `The ${kind} is empty.`
  if (forbidden.test(value))
    return `The ${kind} contains a control character, a line separator or invalid UTF-8, which Basic auth cannot carry.`
  if (kind === 'user name' && value.includes(':'))
    return 'The user name contains ":", which Basic auth cannot carry.'
  return undefined
}

/** The shortest new password init and passwd store, unless --allow-short-password says it is meant. */
export const minPasswordLength = 8

/** Why `password` is too short to be stored as a new password, or undefined when it is long enough. */
export function shortPasswordProblem(password: string): string | undefined {
  // Characters as a person counts them: grapheme clusters of the NFC form, so "é" typed as e + U+0301
  // or a skin-toned emoji counts once. Counting code points (as NIST SP 800-63B does) would let two
  // family emoji pass as 14; grapheme clusters never count more than a person sees.
  const graphemes = new Intl.Segmenter(undefined, {granularity: 'grapheme'})
  const length = [...graphemes.segment(password.normalize('NFC'))].length
  return length < minPasswordLength
    ? `The new password is shorter than ${minPasswordLength} characters.`
    : undefined
}

/**
 * NFC normalisation (as RFC 8265's OpaqueString profile does for passwords): a phone and a
 * terminal may send the same text as different code points, e.g. "é" precomposed or as e + U+0301.
 */
export function normalizeCredentials(credentials: Credentials): Credentials {
  return {username: credentials.username.normalize('NFC'), password: credentials.password.normalize('NFC')}
}

/**
 * An HMAC-SHA-256 of the pair under `key`, a per-process secret: equal pairs give equal digests, and
 * the digest is useless outside the process, so it can be compared and kept where a password may not.
 */
export function pairDigest(key: Buffer, credentials: Credentials): Buffer {
  return createHmac('sha256', key)
    .update(JSON.stringify([credentials.username, credentials.password]))
    .digest()
}
