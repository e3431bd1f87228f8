import {timingSafeEqual} from 'node:crypto'

export const challengeHeaders = {'WWW-Authenticate': 'Basic realm="bench", charset="UTF-8"'}
export const authenticateBody = {message: 'Authenticate.'}

/**
 * The least a Basic auth check can do: compare the whole Authorization header with the one expected,
 * with timingSafeEqual (a length mismatch returns early, which is fine for a floor to measure against).
 */
export function authorizationCheck(username, password) {
  const expected = Buffer.from(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`)
  return function isAuthorized(header) {
    if (header === undefined) return false
    const given = Buffer.from(header)
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
}
