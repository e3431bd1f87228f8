import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'

import type {Credentials} from './credentials.js'

/**
 * The letters and digits of a device password: lower case (a phone keyboard starts there), without
 * the look-alikes 0/o, 1/l/i. 31 symbols carry log2(31) ≈ 4.95 bits each.
 */
const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789'
const groupLength = 4
/** 7 groups of 4: 28 symbols, 138 bits, above the 128 a random secret needs. */
const groups = 7

/** The largest multiple of the alphabet's length a byte can hold: bytes from here on are drawn again, so no symbol is likelier. */
const unbiasedLimit = 256 - (256 % alphabet.length)

/** A new device password from `crypto.randomBytes`: `abcd-efgh-…`, 7 groups of 4, at least 128 bits. */
export function newDevicePassword(): string {
  const symbols: string[] = []
  while (symbols.length < groups * groupLength) {
    for (const byte of randomBytes(groups * groupLength)) {
      if (byte < unbiasedLimit && symbols.length < groups * groupLength)
        symbols.push(alphabet[byte % alphabet.length]!)
    }
  }
  const parts: string[] = []
  for (let start = 0; start < symbols.length; start += groupLength) {
    parts.push(symbols.slice(start, start + groupLength).join(''))
  }
  return parts.join('-')
}

/** A new key for the device hashes: 32 random bytes, base64. */
export function newDeviceKey(): string {
  return randomBytes(32).toString('base64')
}

const hmacPrefix = 'hmac-sha256:'

/**
 * The password as it is hashed: without dashes or spaces, in lower case, so a phone that capitalises
 * the first letter or a person who types the groups with spaces still signs in. Nothing is lost: a
 * device password is only ever lower case letters and digits.
 */
function canonical(password: string): string {
  return password.replace(/[-\s]/g, '').toLowerCase()
}

/**
 * The stored form of a device password: HMAC-SHA-256 under the config directory's device key.
 * A fast keyed hash, not scrypt: a 128-bit random secret cannot be brute-forced however fast each
 * try is, so scrypt's cost would buy nothing and make every device sign-in cost ~100 ms; the key
 * (a file of its own) means config.json alone, leaked, cannot even confirm a guess.
 */
export function devicePasswordHash(key: string, password: string): string {
  return (
    hmacPrefix + createHmac('sha256', Buffer.from(key, 'base64')).update(canonical(password)).digest('base64')
  )
}

/** Whether `value` has the form `devicePasswordHash` writes. */
export function isDevicePasswordHash(value: string): boolean {
  return value.startsWith(hmacPrefix) && Buffer.from(value.slice(hmacPrefix.length), 'base64').length === 32
}

/** One device as a server checks it: its name, its user and the stored hash. */
export interface DeviceCredentials {
  name: string
  user: string
  passwordHash: string
}

export interface DeviceVerifier<Device extends DeviceCredentials> {
  /** The device whose password `candidate` is, when it belongs to the user named; undefined otherwise. */
  identify(candidate: Credentials): Device | undefined
}

/**
 * Checks a password against every device's hash (one HMAC, then a 32-byte `timingSafeEqual` per
 * device, microseconds in all): every device is compared whatever the user name, so the time taken
 * says nothing about which users have devices.
 */
export function createDeviceVerifier<Device extends DeviceCredentials>(
  key: string,
  devices: readonly Device[],
): DeviceVerifier<Device> {
  const stored = devices.map((device) => ({
    device,
    digest: Buffer.from(device.passwordHash.slice(hmacPrefix.length), 'base64'),
  }))
  const hmacKey = Buffer.from(key, 'base64')
  return {
    identify(candidate) {
      const digest = createHmac('sha256', hmacKey).update(canonical(candidate.password)).digest()
      let found: Device | undefined
      for (const {device, digest: expected} of stored) {
        if (timingSafeEqual(digest, expected) && device.user === candidate.username) found = device
      }
      return found
    },
  }
}
