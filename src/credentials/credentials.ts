export interface Credentials {
  username: string
  password: string
}

// RFC 7617 §2: user-id and password MUST NOT contain control characters (CTLs, NUL included).
// Checking before any hashing also matters: scrypt's inner HMAC pads keys with zeros, so `pw` and
// `pw\0` would otherwise hash alike. U+FFFD marks bytes that were not valid UTF-8 (RFC 7617 §2.1).
// eslint-disable-next-line no-control-regex
const forbidden = /[\u0000-\u001f\u007f-\u009f\ufffd]/

/** Why `value` cannot be a user name or password, or undefined when it can. */
export function credentialProblem(kind: 'user name' | 'password', value: string): string | undefined {
  if (value === '') return `The ${kind} is empty.`
  if (forbidden.test(value))
    return `The ${kind} contains a control character or invalid UTF-8, which RFC 7617 forbids.`
  if (kind === 'user name' && value.includes(':'))
    return 'The user name contains ":", which Basic auth cannot carry.'
  return undefined
}

/**
 * NFC normalisation (as RFC 8265's OpaqueString profile does for passwords): a phone and a
 * terminal may send the same text as different code points, e.g. "é" precomposed or as e + U+0301.
 */
export function normalizeCredentials(credentials: Credentials): Credentials {
  return {username: credentials.username.normalize('NFC'), password: credentials.password.normalize('NFC')}
}
