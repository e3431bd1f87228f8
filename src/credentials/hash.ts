import {randomBytes, scrypt, timingSafeEqual, type ScryptOptions} from 'node:crypto'

/*
 * scrypt with N = 2^15, r = 8, p = 3: one of OWASP's equivalent minimum settings (as strong as
 * N = 2^17, p = 1) but with 32 MiB of memory per hash instead of 128 MiB, which suits a Raspberry Pi.
 * Node's default maxmem (32 MiB) is just too small for it, so it is raised.
 */
export const defaultParams = {logN: 15, r: 8, p: 3}
const keyLength = 32
const saltLength = 16
const maxmem = 256 * 1024 * 1024

export interface HashParams {
  logN: number
  r: number
  p: number
}

interface ParsedHash extends HashParams {
  salt: Buffer
  hash: Buffer
}

function derive(password: string, salt: Buffer, params: HashParams, length: number): Promise<Buffer> {
  const options: ScryptOptions = {N: 2 ** params.logN, r: params.r, p: params.p, maxmem}
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (error, key) =>
      error ? reject(error) : resolve(key),
    )
  })
}

/** PHC string format: $scrypt$ln=15,r=8,p=3$<salt>$<hash>, base64 without padding. */
const phcPattern =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{16,})$/

/** Parses an encoded hash; undefined when it is not one this module wrote (or its parameters are unsafe or absurd). */
export function parsePasswordHash(encoded: string): ParsedHash | undefined {
  const match = phcPattern.exec(encoded)
  if (!match) return undefined
  const [logN, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])]
  if (logN < 14 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 16) return undefined
  // scrypt's working memory is 128·r·(N + p + 2) bytes; beyond maxmem Node throws instead of verifying.
  if (128 * r * (2 ** logN + p + 2) > maxmem) return undefined
  return {logN, r, p, salt: Buffer.from(match[4]!, 'base64'), hash: Buffer.from(match[5]!, 'base64')}
}

function encodeHash(params: HashParams, salt: Buffer, hash: Buffer): string {
  const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '')
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`
}

/** Hashes an NFC-normalised password with a fresh random salt; the result carries its parameters. */
export async function hashPassword(password: string, params: HashParams = defaultParams): Promise<string> {
  const salt = randomBytes(saltLength)
  return encodeHash(params, salt, await derive(password, salt, params, keyLength))
}

/**
 * A hash no password matches (random salt and random output) with the parameters and lengths of
 * `like`, made without hashing: checking a password against it costs exactly what `like` costs.
 */
export function dummyPasswordHash(like: string): string {
  const parsed = parsePasswordHash(like) ?? {
    ...defaultParams,
    salt: Buffer.alloc(saltLength),
    hash: Buffer.alloc(keyLength),
  }
  return encodeHash(parsed, randomBytes(parsed.salt.length), randomBytes(parsed.hash.length))
}

/** Whether `password` matches `encoded`: scrypt, then a constant-time comparison. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded)
  if (!parsed) return false
  const candidate = await derive(password, parsed.salt, parsed, parsed.hash.length)
  return timingSafeEqual(candidate, parsed.hash)
}
