import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import v8 from 'node:v8'
import vm from 'node:vm'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Credentials} from '../../src/credentials/credentials.js'
import type {FailedLogin} from '../../src/web/basic-auth.js'
import type {UnencryptedCredentials} from '../../src/web/plain-http.js'
import {startHomeauth, type HomeauthServer, type ServeOptions} from '../../src/server/serve.js'
import {basicHeader, request} from '../helpers/https.js'
import {user} from '../helpers/server.js'

/*
 * A battery of hostile requests against the real server: one server per describe block, raw TLS
 * sockets for bytes a normal client would not send. Every answer is checked for stack traces,
 * file contents and (without credentials) the secret; every block ends by checking that the right
 * credentials still get the secret and that the server reported no error.
 */

const secret = 'hostile-battery secret 5f1c0d'
const stackTrace = /\n\s+at /
/** Failed logins are this battery's daily bread: the brute-force throttle must not turn them into 429s. */
const throttle = {maxFailures: 100_000}

interface Target {
  port: number
  ca: string
  url: string
  credentials: Credentials
  /** What the server reported as bugs (answered 500) through onError. */
  errors: Error[]
  server: HomeauthServer
}

interface LaunchOptions extends Partial<ServeOptions> {
  /** NODE_ENV while the app is built (express reads it then); restored afterwards. */
  nodeEnv?: string
}

async function launch(options: LaunchOptions = {}): Promise<{target: Target; dir: string}> {
  const {nodeEnv, ...serveOptions} = options
  const dir = mkdtempSync(path.join(os.tmpdir(), 'homeauth-hostile-'))
  const errors: Error[] = []
  const previousEnv = process.env.NODE_ENV
  if (nodeEnv !== undefined) process.env.NODE_ENV = nodeEnv
  let server: HomeauthServer
  try {
    server = await startHomeauth({
      configDir: dir,
      config: undefined,
      credentials: user,
      secret,
      host: '127.0.0.1',
      port: 0,
      throttle,
      onError: (error) => errors.push(error),
      ...serveOptions,
    })
  } finally {
    if (previousEnv === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = previousEnv
  }
  const ca = readFileSync(server.tls.authority!.file, 'utf8')
  const port = server.listener.port
  const credentials = serveOptions.credentials ?? user
  return {target: {port, ca, url: `https://127.0.0.1:${port}`, credentials, errors, server}, dir}
}

/** One real server for the enclosing describe block: started before its first test, closed after its last. */
function useBlockServer(options: LaunchOptions = {}): () => Target {
  let launched: {target: Target; dir: string} | undefined
  beforeAll(async () => {
    launched = await launch(options)
  })
  afterAll(async () => {
    await launched?.target.server.close()
    if (launched) rmSync(launched.dir, {recursive: true, force: true})
  })
  return () => {
    if (!launched) throw new Error('the block’s server did not start')
    return launched.target
  }
}

type Answer = number | 'closed'

interface Exchange {
  /** The first response's status, or 'closed' when the server closed the connection without answering. */
  status: Answer
  /** The status of every response on the connection, in order. */
  statuses: number[]
  headers: Record<string, string>
  /** The first response's body. */
  body: string
  /** Every byte the server sent, as latin1. */
  raw: string
}

function parseExchange(raw: string): Exchange {
  const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n/g)].map((match) => Number(match[1]))
  const headerEnd = raw.indexOf('\r\n\r\n')
  const headers: Record<string, string> = {}
  for (const line of raw.slice(0, Math.max(headerEnd, 0)).split('\r\n').slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  let body = headerEnd < 0 ? '' : raw.slice(headerEnd + 4)
  const length = Number(headers['content-length'])
  if (Number.isInteger(length)) body = body.slice(0, length)
  return {
    status: /^HTTP\/1\.1 (\d{3}) /.test(raw) ? Number(raw.slice(9, 12)) : 'closed',
    statuses,
    headers,
    body,
    raw,
  }
}

function tlsConnect(target: Target): tls.TLSSocket {
  return tls.connect({host: '127.0.0.1', port: target.port, ca: target.ca, servername: 'localhost'})
}

/**
 * Writes `bytes` (a string is sent as latin1, byte for byte) on a fresh TLS connection and resolves
 * with everything the server sent once it closes. Rejects if the handshake fails, or if the server
 * neither answers nor closes within `timeoutMs`: a hang is a finding.
 */
function exchange(target: Target, bytes: string | Buffer, timeoutMs = 10_000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = tlsConnect(target)
    let secure = false
    socket.on('secureConnect', () => {
      secure = true
      socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes)
    })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    // A reset after the server's answer is an answer too: 'close' follows and reports what arrived.
    socket.on('error', () => {})
    socket.setTimeout(timeoutMs, () => {
      socket.destroy()
      reject(new Error(`the server neither answered nor closed within ${timeoutMs} ms`))
    })
    socket.on('close', () => {
      if (!secure) reject(new Error('the TLS handshake failed'))
      else resolve(parseExchange(Buffer.concat(chunks).toString('latin1')))
    })
  })
}

/**
 * Writes `bytes` (a string is sent as latin1) on a fresh plain TCP connection and resolves with
 * everything the server sent once it closes; rejects if it neither answers nor closes in time.
 */
function plainExchange(target: Target, bytes: string | Buffer, timeoutMs = 10_000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = net.connect(target.port, '127.0.0.1', () =>
      socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes),
    )
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => {})
    socket.setTimeout(timeoutMs, () => {
      socket.destroy()
      reject(new Error(`the server neither answered nor closed within ${timeoutMs} ms`))
    })
    socket.on('close', () => resolve(parseExchange(Buffer.concat(chunks).toString('latin1'))))
  })
}

/** A request in raw bytes: the request line, Host, the given header lines and Connection: close. */
function http(requestLine: string, ...headers: string[]): string {
  return [requestLine, 'Host: localhost', ...headers, 'Connection: close', '', ''].join('\r\n')
}

function authorization(credentials: Credentials): string {
  return `Authorization: ${basicHeader(credentials.username, credentials.password)}`
}

/** No stack trace, no file contents, no local paths, and the secret only for the right credentials. */
function expectNothingLeaked(response: Exchange, authenticated = false): void {
  expect(response.raw).not.toMatch(stackTrace)
  expect(response.raw).not.toContain('root:')
  expect(response.raw).not.toContain(process.cwd())
  expect(response.raw).not.toMatch(/node_modules|\.ts:\d+/)
  if (!authenticated) expect(response.raw).not.toContain(secret)
}

/** The documented 401: the challenge and the recipe's body. */
function expectChallenge(response: Exchange): void {
  expect(response.status).toBe(401)
  expect(response.headers['www-authenticate']).toBe('Basic realm="homeauth", charset="UTF-8"')
  expect(response.body).toBe('{"message":"Authenticate."}')
}

function expectAnswer(response: Exchange, expected: Answer, authenticated: boolean): void {
  expect(response.status).toBe(expected)
  expectNothingLeaked(response, authenticated)
  if (expected === 401) expectChallenge(response)
  if (expected === 200) expect(response.body).toContain(secret)
}

/**
 * Resolves with the ms `socket` stayed open once the server closes it. Rejects only when it is still
 * open after 8 s: many times the block's timeouts (under a second), yet below the server's defaults
 * (10 s and more), so only a timeout that did not apply fails, never a busy machine.
 */
function waitForClose(socket: net.Socket, deadlineMs = 8_000): Promise<number> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(0)
    const timer = setTimeout(() => reject(new Error(`still open after ${deadlineMs} ms`)), deadlineMs)
    socket.once('close', () => {
      clearTimeout(timer)
      resolve(Date.now() - started)
    })
  })
}

/** Writes `text` one byte every `everyMs` until done or the socket is gone. */
function trickle(socket: net.Socket, text: string | Buffer, everyMs: number): void {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text
  let next = 0
  const timer = setInterval(() => {
    if (socket.destroyed || next >= bytes.length) return clearInterval(timer)
    socket.write(bytes.subarray(next, ++next))
  }, everyMs)
  socket.once('close', () => clearInterval(timer))
}

function openConnections(target: Target): Promise<number> {
  return new Promise((resolve, reject) =>
    target.server.listener.tcpServer.getConnections((error, count) =>
      error ? reject(error) : resolve(count),
    ),
  )
}

async function expectSecretServed(target: Target): Promise<void> {
  const response = await request(`${target.url}/api/secret`, {ca: target.ca, auth: target.credentials})
  expect(response.status).toBe(200)
  expect(JSON.parse(response.body)).toEqual({message: secret})
}

/** The closing test of every block: the right credentials still get the secret, nothing went wrong, nothing lingers. */
function itKeepsServing(target: () => Target): void {
  it('still answers GET /api/secret with 200 to the right credentials, reported no error and left no connection open', async () => {
    await expectSecretServed(target())
    expect(target().errors).toEqual([])
    const deadline = Date.now() + 20_000
    while ((await openConnections(target())) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(await openConnections(target())).toBe(0)
  })
}

/**
 * V8's collector: the global --expose-gc gives, else the same function switched on at run time (as
 * Jest's leak detector does), else undefined and the heap assertion is skipped.
 */
function findGc(): (() => void) | undefined {
  if (typeof globalThis.gc === 'function') return () => void globalThis.gc?.()
  try {
    v8.setFlagsFromString('--expose-gc')
    const gc: unknown = vm.runInNewContext('gc')
    return typeof gc === 'function' ? () => void gc() : undefined
  } catch {
    return undefined
  }
}

const gc = findGc()
let heapBefore = 0

beforeAll(() => {
  gc?.()
  heapBefore = process.memoryUsage().heapUsed
})

describe('hostile Authorization headers', () => {
  // A password with colons, to check the split at the first colon against a real server.
  const colonUser = {username: 'JeffLynne', password: 'pa:ss:word'}
  const target = useBlockServer({credentials: colonUser})
  const token = (text: string | Buffer) =>
    (typeof text === 'string' ? Buffer.from(text, 'utf8') : text).toString('base64')
  const right = token('JeffLynne:pa:ss:word')

  const cases: {name: string; headers: string[]; expected: Answer}[] = [
    {name: 'a 9 KiB Basic token', headers: [`Authorization: Basic ${'A'.repeat(9 * 1024)}`], expected: 431},
    // Two Authorization headers are refused whatever their order: a proxy in front may believe the other one.
    {
      name: 'two Authorization headers, the right one first',
      headers: [`Authorization: Basic ${right}`, `Authorization: Basic ${token('JeffLynne:wrong')}`],
      expected: 400,
    },
    {
      name: 'two Authorization headers, the right one second',
      headers: [`Authorization: Basic ${token('JeffLynne:wrong')}`, `Authorization: Basic ${right}`],
      expected: 400,
    },
    {
      name: 'the right Authorization header twice',
      headers: [`Authorization: Basic ${right}`, `authorization: Basic ${right}`],
      expected: 400,
    },
    {
      name: 'an empty Authorization header before the right one',
      headers: ['Authorization: ', `Authorization: Basic ${right}`],
      expected: 400,
    },
    {
      name: 'base64 of bytes that are not UTF-8 (ff fe 3a 80)',
      headers: [`Authorization: Basic ${token(Buffer.from([0xff, 0xfe, 0x3a, 0x80]))}`],
      expected: 401,
    },
    {
      name: 'a password with an accent (p\u00e4:ss:word) encoded as latin1 instead of UTF-8',
      headers: [`Authorization: Basic ${token(Buffer.from('JeffLynne:p\u00e4:ss:word', 'latin1'))}`],
      expected: 401,
    },
    {
      name: 'an overlong UTF-8 encoding of NUL (c0 80) in the password',
      headers: [`Authorization: Basic ${token(Buffer.from([...Buffer.from('JeffLynne:pa'), 0xc0, 0x80]))}`],
      expected: 401,
    },
    {
      name: 'the right credentials encoded as UTF-16LE',
      headers: [`Authorization: Basic ${token(Buffer.from('JeffLynne:pa:ss:word', 'utf16le'))}`],
      expected: 401,
    },
    {
      name: 'base64 of all 256 byte values',
      headers: [`Authorization: Basic ${token(Buffer.from(Array.from({length: 256}, (_, i) => i)))}`],
      expected: 401,
    },
    {
      name: 'raw bytes 80-ff instead of base64',
      headers: ['Authorization: Basic \x80\x9f\xa0\xff\xfe'],
      expected: 401,
    },
    {
      name: 'a NUL byte between the scheme and the token',
      headers: [`Authorization: Basic\0${right}`],
      expected: 400,
    },
    {name: 'a NUL byte after the right token', headers: [`Authorization: Basic ${right}\0`], expected: 400},
    {name: 'a NUL byte in the header name', headers: [`Author\0ization: Basic ${right}`], expected: 400},
    {
      name: 'user:pa:ss:word when that is the password',
      headers: [`Authorization: Basic ${right}`],
      expected: 200,
    },
    {
      name: 'user:pa (cut at the second colon)',
      headers: [`Authorization: Basic ${token('JeffLynne:pa')}`],
      expected: 401,
    },
    {name: 'user:pa:ss', headers: [`Authorization: Basic ${token('JeffLynne:pa:ss')}`], expected: 401},
    {
      name: 'user:pa:ss:word: (a trailing colon)',
      headers: [`Authorization: Basic ${token('JeffLynne:pa:ss:word:')}`],
      expected: 401,
    },
    {
      name: 'user::pa:ss:word (a doubled colon)',
      headers: [`Authorization: Basic ${token('JeffLynne::pa:ss:word')}`],
      expected: 401,
    },
    {
      name: ':user:pa:ss:word (an empty user name)',
      headers: [`Authorization: Basic ${token(':JeffLynne:pa:ss:word')}`],
      expected: 401,
    },
    {
      name: 'the user name JeffLynne%3Apa (a percent-encoded colon) with the password ss:word',
      headers: [`Authorization: Basic ${token('JeffLynne%3Apa:ss:word')}`],
      expected: 401,
    },
    {
      name: 'tabs around the whole right value (OWS, stripped by HTTP)',
      headers: [`Authorization:\tBasic ${right}\t`],
      expected: 200,
    },
    {
      name: 'spaces around the whole right value',
      headers: [`Authorization:    Basic ${right}   `],
      expected: 200,
    },
    {
      name: 'two spaces between Basic and the right token',
      headers: [`Authorization: Basic  ${right}`],
      expected: 200,
    },
    {
      name: 'a tab between Basic and the right token',
      headers: [`Authorization: Basic\t${right}`],
      expected: 401,
    },
    {
      name: 'no space between Basic and the right token',
      headers: [`Authorization: Basic${right}`],
      expected: 401,
    },
    {
      name: 'a space inside the right token',
      headers: [`Authorization: Basic ${right.slice(0, 8)} ${right.slice(8)}`],
      expected: 401,
    },
    {
      name: 'the right token followed by another word',
      headers: [`Authorization: Basic ${right} extra`],
      expected: 401,
    },
    {
      name: 'the right token continued on an obs-fold line',
      headers: ['Authorization: Basic', ` ${right}`],
      expected: 400,
    },
    {name: 'Bearer with the right token', headers: [`Authorization: Bearer ${right}`], expected: 401},
    {
      name: 'Digest',
      headers: [
        'Authorization: Digest username="JeffLynne", realm="homeauth", nonce="x", uri="/api/secret", response="0"',
      ],
      expected: 401,
    },
    {
      name: 'Negotiate',
      headers: [
        'Authorization: Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHg==',
      ],
      expected: 401,
    },
    {
      name: 'NTLM',
      headers: ['Authorization: NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw=='],
      expected: 401,
    },
    {name: 'an empty Basic', headers: ['Authorization: Basic'], expected: 401},
    {name: 'Basic followed by spaces only', headers: ['Authorization: Basic   '], expected: 401},
    {name: 'Basic with only =', headers: ['Authorization: Basic ='], expected: 401},
    {name: 'Basic with only ====', headers: ['Authorization: Basic ===='], expected: 401},
    {
      name: 'Basic with the right credentials unencoded',
      headers: ['Authorization: Basic JeffLynne:pa:ss:word'],
      expected: 401,
    },
    {
      name: 'base64url instead of base64',
      headers: [`Authorization: Basic ${Buffer.from('JeffLynne:pa:ss:word?>').toString('base64url')}`],
      expected: 401,
    },
    {name: 'Basic with a colon only', headers: [`Authorization: Basic ${token(':')}`], expected: 401},
  ]

  it.each(cases)('answers $expected to $name', async ({headers, expected}) => {
    const response = await exchange(target(), http('GET /api/secret HTTP/1.1', ...headers))
    expectAnswer(response, expected, expected === 200)
  })

  it('answers 401 to a browser’s Accept headers that negotiation could choke on', async () => {
    for (const accept of [
      'text/html;q=NaN, */*;q=-1, ;;;, a/b;q=2',
      Array.from({length: 400}, (_, i) => `type/x${i};q=0.${i % 10}`).join(','),
      '*/*;q=0',
      '',
    ]) {
      const response = await exchange(target(), http('GET /api/secret HTTP/1.1', `Accept: ${accept}`))
      expect(response.status, accept.slice(0, 40)).toBe(401)
      expectNothingLeaked(response)
    }
  })

  itKeepsServing(target)
})

describe('oversized and malformed request heads', () => {
  const target = useBlockServer()
  const auth = () => authorization(target().credentials)
  const padding = (count: number) =>
    Array.from({length: count}, (_, i) => `X-Pad-${String(i).padStart(3, '0')}: ${'a'.repeat(30)}`)

  it('answers 431 to 300 small headers (12 KiB), with credentials or without', async () => {
    for (const headers of [padding(300), [auth(), ...padding(300)]]) {
      const response = await exchange(target(), http('GET /api/secret HTTP/1.1', ...headers))
      expectAnswer(response, 431, false)
      expect(response.body).toBe('')
    }
  })

  it('still serves 150 small headers (6 KiB), under the 8 KiB limit', async () => {
    const response = await exchange(target(), http('GET /api/secret HTTP/1.1', auth(), ...padding(150)))
    expectAnswer(response, 200, true)
  })

  it('answers 431 to a request line over 8 KiB, in the path or the query, with credentials or without', async () => {
    for (const line of [
      `GET /${'a'.repeat(9 * 1024)} HTTP/1.1`,
      `GET /api/secret?q=${'a'.repeat(9 * 1024)} HTTP/1.1`,
    ]) {
      for (const headers of [[], [auth()]]) {
        const response = await exchange(target(), http(line, ...headers))
        expectAnswer(response, 431, false)
      }
    }
  })

  it('answers a 4,000-character path with 401 without credentials and 404 with them', async () => {
    const line = `GET /${'a/'.repeat(2000)} HTTP/1.1`
    expectAnswer(await exchange(target(), http(line)), 401, false)
    expectAnswer(await exchange(target(), http(line, auth())), 404, true)
  })

  const malformed: {name: string; bytes: () => string; expected: Answer}[] = [
    {
      name: 'an HTTP/1.1 request without Host',
      bytes: () => `GET /api/secret HTTP/1.1\r\n${auth()}\r\nConnection: close\r\n\r\n`,
      expected: 400,
    },
    {
      name: 'Content-Length and Transfer-Encoding together (request smuggling)',
      bytes: () =>
        http('POST /api/secret HTTP/1.1', auth(), 'Content-Length: 4', 'Transfer-Encoding: chunked') +
        '0\r\n\r\n',
      expected: 400,
    },
    {
      name: 'two different Content-Length headers',
      bytes: () =>
        http('POST /api/secret HTTP/1.1', auth(), 'Content-Length: 4', 'Content-Length: 5') + 'abcde',
      expected: 400,
    },
    {
      name: 'bare LF line endings',
      bytes: () => `GET /api/secret HTTP/1.1\nHost: localhost\n${auth()}\nConnection: close\n\n`,
      expected: 400,
    },
    {
      name: 'a space before the colon of Authorization',
      bytes: () => http('GET /api/secret HTTP/1.1', auth().replace(':', ' :')),
      expected: 400,
    },
    {
      name: 'a NUL byte in another header’s value',
      bytes: () => http('GET /api/secret HTTP/1.1', auth(), 'X-A: a\0b'),
      expected: 400,
    },
    {
      name: 'a bare CR in a header value',
      bytes: () => http('GET /api/secret HTTP/1.1', auth(), 'X-A: a\rb'),
      expected: 400,
    },
    {
      name: 'a NUL byte in the request target',
      bytes: () => http('GET /api/secret\0 HTTP/1.1', auth()),
      expected: 400,
    },
    {
      name: 'HTTP/9.9 in the request line',
      bytes: () => http('GET /api/secret HTTP/9.9', auth()),
      expected: 400,
    },
    {
      name: 'the HTTP/2 connection preface',
      bytes: () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      expected: 400,
    },
  ]

  it.each(malformed)('answers $expected to $name', async ({bytes, expected}) => {
    expectAnswer(await exchange(target(), bytes()), expected, false)
  })

  it('answers two Host headers like one (Node keeps the first; homeauth never reads Host)', async () => {
    const bytes = (...headers: string[]) =>
      [
        'GET /api/secret HTTP/1.1',
        'Host: localhost',
        'Host: evil.example',
        ...headers,
        'Connection: close',
        '',
        '',
      ].join('\r\n')
    expectAnswer(await exchange(target(), bytes()), 401, false)
    const response = await exchange(target(), bytes(auth()))
    expectAnswer(response, 200, true)
    expect(response.raw).not.toContain('evil.example')
  })

  it('answers an unknown Transfer-Encoding once, never treating its body as a second request', async () => {
    const smuggled = http('GET /api/secret HTTP/1.1', auth())
    const response = await exchange(
      target(),
      ['POST /api/secret HTTP/1.1', 'Host: localhost', 'Transfer-Encoding: xchunked', '', smuggled].join(
        '\r\n',
      ),
    )
    expect(response.statuses).toEqual([401])
    expectNothingLeaked(response)
  })

  it('answers 401 to a GET with a 256 KiB body, or closes the connection, and does not crash', async () => {
    const response = await exchange(
      target(),
      http('GET /api/secret HTTP/1.1', `Content-Length: ${256 * 1024}`) + 'a'.repeat(256 * 1024),
    )
    expect([401, 'closed']).toContain(response.status)
    expectNothingLeaked(response)
  })

  it('answers 20 pipelined requests without credentials with 20 challenges', async () => {
    const one = 'GET /api/secret HTTP/1.1\r\nHost: localhost\r\n\r\n'
    const response = await exchange(target(), one.repeat(19) + http('GET /api/secret HTTP/1.1'))
    expect(response.statuses).toEqual(Array<number>(20).fill(401))
    expectNothingLeaked(response)
  })

  it('does not carry credentials from one pipelined request to the next', async () => {
    const response = await exchange(
      target(),
      `GET /api/secret HTTP/1.1\r\nHost: localhost\r\n${auth()}\r\n\r\n` + http('GET /api/secret HTTP/1.1'),
    )
    expect(response.statuses).toEqual([200, 401])
    expect(response.raw.split(secret)).toHaveLength(2)
  })

  itKeepsServing(target)
})

describe('path traversal and encoded paths', () => {
  const target = useBlockServer()

  /** Paths that are not /api/secret or / (nor /healthz, /favicon.ico): 401 without credentials, 404 with them. */
  const notFound = [
    '/../api/secret',
    '/../../../../etc/passwd',
    '/%2e%2e/',
    '/%2e%2e/api/secret',
    '/.%2e/api/secret',
    '/api/%2e%2e/secret',
    '/api/%2e%2e/%2e%2e/etc/passwd',
    '/api%2fsecret',
    '/api%2Fsecret',
    '/%252e%252e/api/secret',
    '/%252e%252e%252f%252e%252e%252fetc%252fpasswd',
    '/api/secret/..%2f..%2fetc%2fpasswd',
    '/api/secret/../../etc/passwd',
    '/..%2f..%2f..%2fetc%2fpasswd',
    '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
    '/..%c0%af..%c0%afetc%c0%afpasswd',
    '/api\\secret',
    '/..\\..\\etc\\passwd',
    '/..%5c..%5cetc%5cpasswd',
    '/api%5csecret',
    '/..;/api/secret',
    '/api/secret;/../../etc/passwd',
    '/api/secret%00',
    '/api/secret%00.json',
    '/api/secret%20',
    '/./api/secret',
    '/api/./secret',
    '//api/secret',
    '/api//secret',
    '/healthz/../api/secret',
    '/healthz/..%2fapi%2fsecret',
    '/healthz%2f..%2fapi%2fsecret',
    '/healthz/%2e%2e/api/secret',
    '/favicon.ico/../api/secret',
    '/favicon.ico/..%2f..%2fetc%2fpasswd',
    '/etc/passwd',
    '/.env',
    '/.git/config',
    '/config.json',
    '/ca.pem/../ca-key.pem',
    '/ca.pem%00',
    '/trust/../api/secret',
    '/ca-key.pem',
    '/server-key.pem',
    '/%ZZ',
  ]

  it.each(notFound.map((requestTarget) => ({requestTarget})))(
    'answers $requestTarget with 401 without credentials and 404 with them',
    async ({requestTarget}) => {
      expectAnswer(await exchange(target(), http(`GET ${requestTarget} HTTP/1.1`)), 401, false)
      const response = await exchange(
        target(),
        http(`GET ${requestTarget} HTTP/1.1`, authorization(target().credentials)),
      )
      expectAnswer(response, 404, true)
      expect(response.body).toBe('{"message":"Not found."}')
    },
  )

  /** Paths that really are /api/secret or /: only their query strings look like traversal. */
  const realPaths = [
    '/api/secret?file=../../../etc/passwd',
    '/api/secret?%2e%2e%2f%2e%2e',
    '/?page=../../../etc/passwd',
  ]

  it.each(realPaths.map((requestTarget) => ({requestTarget})))(
    'answers $requestTarget with 401 without credentials and 200 with them, never a file',
    async ({requestTarget}) => {
      expectAnswer(await exchange(target(), http(`GET ${requestTarget} HTTP/1.1`)), 401, false)
      expectAnswer(
        await exchange(target(), http(`GET ${requestTarget} HTTP/1.1`, authorization(target().credentials))),
        200,
        true,
      )
    },
  )

  it('answers 400 to request targets that start with a backslash or no slash at all, with credentials or without', async () => {
    for (const path of ['\\api\\secret', '\\..\\..\\etc\\passwd', 'api/secret', '..%2fetc%2fpasswd']) {
      for (const headers of [[], [authorization(target().credentials)]]) {
        expectAnswer(await exchange(target(), http(`GET ${path} HTTP/1.1`, ...headers)), 400, false)
      }
    }
  })

  itKeepsServing(target)
})

describe('methods and request lines', () => {
  const target = useBlockServer()
  const auth = () => authorization(target().credentials)

  const cases: {name: string; line: string; headers?: string[]; without: Answer; with: Answer}[] = [
    {name: 'HEAD /api/secret', line: 'HEAD /api/secret HTTP/1.1', without: 401, with: 200},
    {name: 'OPTIONS /api/secret', line: 'OPTIONS /api/secret HTTP/1.1', without: 401, with: 405},
    {name: 'OPTIONS *', line: 'OPTIONS * HTTP/1.1', without: 401, with: 404},
    {
      name: 'TRACE /api/secret',
      line: 'TRACE /api/secret HTTP/1.1',
      headers: ['X-Canary: trace-canary'],
      without: 401,
      with: 405,
    },
    {name: 'TRACE /', line: 'TRACE / HTTP/1.1', headers: ['X-Canary: trace-canary'], without: 401, with: 405},
    {name: 'PROPFIND / (WebDAV)', line: 'PROPFIND / HTTP/1.1', without: 401, with: 405},
    {
      name: 'CONNECT to another port',
      line: 'CONNECT 127.0.0.1:22 HTTP/1.1',
      without: 'closed',
      with: 'closed',
    },
    {name: 'CONNECT with a path', line: 'CONNECT /api/secret HTTP/1.1', without: 'closed', with: 'closed'},
    {name: 'the unknown method FOO', line: 'FOO /api/secret HTTP/1.1', without: 400, with: 400},
    {name: 'a lower-case get', line: 'get /api/secret HTTP/1.1', without: 400, with: 400},
    {
      name: 'POST with X-HTTP-Method-Override: GET',
      line: 'POST /api/secret HTTP/1.1',
      headers: ['X-HTTP-Method-Override: GET', 'Content-Length: 0'],
      without: 401,
      with: 405,
    },
    {
      name: 'an absolute-form target naming another host',
      line: 'GET http://evil.example/api/secret HTTP/1.1',
      without: 401,
      with: 200,
    },
    {name: 'HTTP/1.0', line: 'GET /api/secret HTTP/1.0', without: 401, with: 200},
    {name: 'HTTP/2.0 in an HTTP/1 request line', line: 'GET /api/secret HTTP/2.0', without: 401, with: 200},
    {
      name: 'a WebSocket upgrade',
      line: 'GET /api/secret HTTP/1.1',
      headers: [
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ],
      without: 401,
      with: 200,
    },
    {
      name: 'an h2c upgrade',
      line: 'GET /api/secret HTTP/1.1',
      headers: ['Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA'],
      without: 401,
      with: 200,
    },
  ]

  it.each(cases)('answers $name with $without without credentials and $with with them', async (testCase) => {
    const headers = testCase.headers ?? []
    const without = await exchange(target(), http(testCase.line, ...headers))
    expect(without.status).toBe(testCase.without)
    expectNothingLeaked(without)
    const withAuth = await exchange(target(), http(testCase.line, ...headers, auth()))
    expect(withAuth.status).toBe(testCase.with)
    expectNothingLeaked(withAuth, true)
    // TRACE must not echo the request back, credentials included.
    for (const response of [without, withAuth]) {
      expect(response.raw).not.toContain('trace-canary')
      expect(response.raw).not.toContain(auth().slice('Authorization: Basic '.length))
    }
    if (testCase.line.startsWith('HEAD')) {
      expect(without.body).toBe('')
      expect(withAuth.body).toBe('')
    }
    if (testCase.with === 405) expect(withAuth.headers.allow).toBe('GET, HEAD')
  })

  it('answers Expect: 100-continue with 100 and then 401 or 405, and an unknown expectation with 417', async () => {
    const post = (...headers: string[]) =>
      http('POST /api/secret HTTP/1.1', 'Content-Length: 5', ...headers) + 'hello'
    const without = await exchange(target(), post('Expect: 100-continue'))
    expect(without.statuses).toEqual([100, 401])
    expectNothingLeaked(without)
    const withAuth = await exchange(target(), post('Expect: 100-continue', auth()))
    expect(withAuth.statuses).toEqual([100, 405])
    expectNothingLeaked(withAuth, true)
    for (const headers of [[], [auth()]]) {
      const unknown = await exchange(target(), post('Expect: x-unknown', ...headers))
      expect(unknown.statuses).toEqual([417])
      expectNothingLeaked(unknown)
    }
  })

  it('answers an HTTP/0.9-style request line with a 401', async () => {
    const response = await exchange(target(), 'GET /api/secret\r\n\r\n')
    expectAnswer(response, 401, false)
  })

  itKeepsServing(target)
})

describe('protected paths in another letter case or with a trailing slash', () => {
  const target = useBlockServer()
  // express routes case-insensitively and ignores one trailing slash: these are /api/secret.
  const secretPaths = ['/API/SECRET', '/api/secret/', '/Api/Secret/', '/API/secret', '/api/SECRET/']

  it.each(secretPaths.map((requestTarget) => ({requestTarget})))(
    'answers $requestTarget with 401 without credentials and 200 with them',
    async ({requestTarget}) => {
      expectAnswer(await exchange(target(), http(`GET ${requestTarget} HTTP/1.1`)), 401, false)
      const response = await exchange(
        target(),
        http(`GET ${requestTarget} HTTP/1.1`, authorization(target().credentials)),
      )
      expectAnswer(response, 200, true)
      expect(response.headers['cache-control']).toBe('no-store')
    },
  )

  it('answers /FAVICON.ICO with 401 without credentials and 204 with them', async () => {
    expectAnswer(await exchange(target(), http('GET /FAVICON.ICO HTTP/1.1')), 401, false)
    const response = await exchange(
      target(),
      http('GET /FAVICON.ICO HTTP/1.1', authorization(target().credentials)),
    )
    expect(response.status).toBe(204)
  })

  it('answers /%61pi/secret (an encoded letter) with 401 without credentials and 404 with them', async () => {
    expectAnswer(await exchange(target(), http('GET /%61pi/secret HTTP/1.1')), 401, false)
    expectAnswer(
      await exchange(target(), http('GET /%61pi/secret HTTP/1.1', authorization(target().credentials))),
      404,
      true,
    )
  })

  it('answers /HEALTHZ and /healthz/ without credentials, with nothing but {"status":"ok"}', async () => {
    for (const path of ['/HEALTHZ', '/healthz/', '/Healthz']) {
      const response = await exchange(target(), http(`GET ${path} HTTP/1.1`))
      expect(response.status).toBe(200)
      expect(response.body).toBe('{"status":"ok"}')
      expectNothingLeaked(response)
    }
  })

  itKeepsServing(target)
})

describe('plain HTTP and garbage on the same port', () => {
  const warnings: UnencryptedCredentials[] = []
  const failures: FailedLogin[] = []
  const target = useBlockServer({
    onUnencryptedCredentials: (warning) => warnings.push(warning),
    onFailedLogin: (failure) => failures.push(failure),
  })
  const auth = () => authorization(target().credentials)

  /** What plain HTTP answers, and nothing else: the onboarding page and the CA files. */
  const served = [
    '/',
    '/trust',
    '/ca.pem',
    '/ca.crt',
    '/homeauth.mobileconfig',
    '/?q=1',
    '/trust?x=../../etc',
  ]
  /** Everything else, traversals and the server's own files included: a redirect to the same path over HTTPS. */
  const redirected = [
    '/api/secret',
    '/api/secret?file=../../../etc/passwd',
    '/healthz',
    '/favicon.ico',
    '/auth',
    '/logout',
    '/app.js',
    '/index.html',
    '/ca-key.pem',
    '/server-key.pem',
    '/server.pem',
    '/config.json',
    '/state.json',
    '/serve.log',
    '/.env',
    '/etc/passwd',
    '/../ca-key.pem',
    '/trust/../ca-key.pem',
    '/ca.pem/../ca-key.pem',
    '/%2e%2e/ca-key.pem',
    '/trust%2f..%2fca-key.pem',
    '/ca.pem%00',
    '/ca.pem%00.txt',
    '/ca.pem.bak',
    '/ca%2epem',
    '/..%5cca-key.pem',
    '//evil.example/',
    '/%ZZ',
  ]

  function expectNoKeyOrSecret(response: Exchange): void {
    expectNothingLeaked(response)
    expect(response.raw).not.toContain('PRIVATE KEY')
  }

  it.each(served.map((requestTarget) => ({requestTarget})))(
    'answers GET $requestTarget with 200',
    async ({requestTarget}) => {
      const response = await plainExchange(target(), http(`GET ${requestTarget} HTTP/1.1`))
      expect(response.status).toBe(200)
      expect(response.headers['strict-transport-security']).toBeUndefined()
      expectNoKeyOrSecret(response)
    },
  )

  it.each(redirected.map((requestTarget) => ({requestTarget})))(
    'answers GET $requestTarget with 308 to the same path over HTTPS, nothing more',
    async ({requestTarget}) => {
      const response = await plainExchange(target(), http(`GET ${requestTarget} HTTP/1.1`))
      expect(response.status).toBe(308)
      expect(response.headers.location).toBe(`https://localhost${requestTarget.replaceAll('%ZZ', '%25ZZ')}`)
      expect(response.body).not.toMatch(/-----BEGIN|\{"message"/)
      expectNoKeyOrSecret(response)
    },
  )

  it('redirects every method but GET and HEAD, on the onboarding paths too', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
      for (const path of ['/', '/trust', '/ca.pem', '/api/secret']) {
        const response = await plainExchange(
          target(),
          http(`${method} ${path} HTTP/1.1`, 'Content-Length: 0'),
        )
        expect(response.status, `${method} ${path}`).toBe(308)
        expect(response.headers.location).toBe(`https://localhost${path}`)
        expectNoKeyOrSecret(response)
      }
    }
  })

  const credentialHeaders: {name: string; headers: () => string[]}[] = [
    {name: 'the right credentials', headers: () => [auth()]},
    {name: 'wrong credentials', headers: () => [authorization({username: 'JeffLynne', password: 'guess'})]},
    {name: 'a malformed Basic token', headers: () => ['Authorization: Basic !!!']},
    {name: 'an empty Authorization header', headers: () => ['Authorization: ']},
    {name: 'a Bearer token', headers: () => ['Authorization: Bearer abc.def.ghi']},
    {
      name: 'the header name in lower case',
      headers: () => [auth().replace('Authorization', 'authorization')],
    },
    {name: 'two Authorization headers', headers: () => [auth(), auth()]},
  ]

  it.each(credentialHeaders)(
    'answers $name with 400 on every path and method, unchecked, and warns',
    async ({headers}) => {
      const before = warnings.length
      let requests = 0
      for (const method of ['GET', 'HEAD', 'POST']) {
        for (const path of ['/', '/trust', '/ca.pem', '/api/secret', '/nowhere?q=1']) {
          const response = await plainExchange(
            target(),
            http(`${method} ${path} HTTP/1.1`, ...headers(), 'Content-Length: 0', 'Accept: text/html'),
          )
          requests++
          expect(response.status, `${method} ${path}`).toBe(400)
          expect(response.headers.location).toBeUndefined()
          expect(response.headers['www-authenticate']).toBeUndefined()
          // The block server was given its password at start-up: passwd could not change it.
          if (method !== 'HEAD') expect(response.body).toContain('with a new password')
          expectNoKeyOrSecret(response)
        }
      }
      expect(warnings.length - before).toBe(requests)
      expect(failures).toEqual([])
    },
  )

  it('answers 400 to a Host header that is not a host, and to a target that is not a path', async () => {
    const get = (requestTarget: string, host: string) =>
      plainExchange(target(), `GET ${requestTarget} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
    for (const host of [
      'evil.example/x',
      'evil.example@localhost',
      'a b',
      '[::1',
      'localhost:99999',
      '<script>',
    ]) {
      const response = await get('/api/secret', host)
      expect(response.status, host).toBe(400)
      expect(response.headers.location).toBeUndefined()
      expectNoKeyOrSecret(response)
    }
    for (const requestTarget of ['http://evil.example/api/secret', 'https://localhost/ca-key.pem', '*']) {
      const response = await get(requestTarget, 'localhost')
      expect(response.status, requestTarget).toBe(400)
      expect(response.headers.location).toBeUndefined()
    }
  })

  it('answers HEAD like GET without a body, on what it serves and what it redirects', async () => {
    for (const path of ['/', '/ca.crt', '/api/secret']) {
      const get = await plainExchange(target(), http(`GET ${path} HTTP/1.1`))
      const head = await plainExchange(target(), http(`HEAD ${path} HTTP/1.1`))
      expect(head.status, path).toBe(get.status)
      expect(head.body).toBe('')
      expect(head.headers['content-type']).toBe(get.headers['content-type'])
      expect(head.headers.location).toBe(get.headers.location)
    }
  })

  const garbage: {name: string; bytes: () => string | Buffer}[] = [
    {
      name: '4 KiB of pseudo-random bytes',
      bytes: () => Buffer.from(Array.from({length: 4096}, (_, i) => (i * 7919) % 256)),
    },
    {
      name: 'an SSLv2-format ClientHello',
      // 2-byte record header (46 bytes follow), CLIENT-HELLO, version 3.1, 7 cipher specs, 16-byte challenge.
      bytes: () =>
        Buffer.from(
          `802e01030100150000001000003900003800003500001600001300000a070080${'11'.repeat(16)}`,
          'hex',
        ),
    },
    {
      name: 'a TLS handshake record full of junk',
      bytes: () => Buffer.concat([Buffer.from('1603010100', 'hex'), Buffer.alloc(256, 0xab)]),
    },
    {
      name: 'a TLS record header followed by a plain request',
      bytes: () => '\x16\x03\x01' + http('GET / HTTP/1.1'),
    },
    {name: 'a lower-case request line', bytes: () => http('get / HTTP/1.1')},
    {name: 'a NUL byte', bytes: () => '\0'},
    {name: 'the HTTP/2 preface without TLS', bytes: () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'},
  ]

  it.each(garbage)('closes the connection on $name without a 2xx or 3xx answer', async ({bytes}) => {
    const response = await plainExchange(target(), bytes())
    expect(['closed', 400]).toContain(response.status)
    expectNoKeyOrSecret(response)
  })

  itKeepsServing(target)
})

describe('slow and silent clients', () => {
  const timeouts = {handshakeMs: 300, headersMs: 400, requestMs: 1000, keepAliveMs: 300, checkIntervalMs: 100}
  const target = useBlockServer({timeouts})
  /** An authenticated request that must be answered while an attacker holds a connection. */
  async function expectServedMeanwhile(): Promise<void> {
    const response = await request(`${target().url}/api/secret`, {
      ca: target().ca,
      auth: target().credentials,
    })
    expect(response.status).toBe(200)
  }

  it('drops a client that connects and never sends a byte after the handshake timeout, while serving others', async () => {
    const socket = net.connect(target().port, '127.0.0.1')
    socket.on('error', () => {})
    const closed = waitForClose(socket)
    await expectServedMeanwhile()
    const ms = await closed
    expect(ms).toBeGreaterThanOrEqual(timeouts.handshakeMs - 100)
  })

  it('drops a client that sends its ClientHello a byte at a time after the handshake timeout', async () => {
    const socket = net.connect(target().port, '127.0.0.1')
    socket.on('error', () => {})
    const closed = waitForClose(socket)
    // A TLS record header announcing a 512-byte handshake message, then its bytes, slowly.
    socket.on('connect', () =>
      trickle(socket, Buffer.concat([Buffer.from('1603010200', 'hex'), Buffer.alloc(512)]), 20),
    )
    await expectServedMeanwhile()
    const ms = await closed
    expect(ms).toBeGreaterThanOrEqual(timeouts.handshakeMs - 100)
  })

  it('drops a client that finishes TLS but sends nothing after the header timeout, without an answer', async () => {
    const socket = tlsConnect(target())
    socket.on('error', () => {})
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    const closed = waitForClose(socket)
    await expectServedMeanwhile()
    const ms = await closed
    expect(ms).toBeGreaterThanOrEqual(timeouts.headersMs - 100)
    expect(received).not.toContain(secret)
  })

  it('drops a client that sends its headers a byte at a time after the header timeout, while serving others', async () => {
    const socket = tlsConnect(target())
    socket.on('error', () => {})
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    const closed = waitForClose(socket)
    const headers = http('GET /api/secret HTTP/1.1', authorization(target().credentials), 'X-Slow: yes')
    socket.on('secureConnect', () => trickle(socket, headers, 10))
    await expectServedMeanwhile()
    await expectServedMeanwhile()
    const ms = await closed
    expect(ms).toBeGreaterThanOrEqual(timeouts.headersMs - 100)
    expect(received).not.toContain(secret)
    expect([undefined, '408']).toContain(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1])
  })

  it('closes a connection whose request body trickles in, within the request timeout', async () => {
    const socket = tlsConnect(target())
    socket.on('error', () => {})
    const closed = waitForClose(socket)
    socket.on('secureConnect', () => {
      socket.write(
        [
          'POST /api/secret HTTP/1.1',
          'Host: localhost',
          authorization(target().credentials),
          'Content-Length: 1000',
          '',
          '',
        ].join('\r\n'),
      )
      trickle(socket, 'a'.repeat(1000), 20)
    })
    await expectServedMeanwhile()
    await closed
  })

  it('closes an idle keep-alive connection after its answer within the keep-alive plus header timeouts', async () => {
    const socket = tlsConnect(target())
    socket.on('error', () => {})
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    const closed = waitForClose(socket)
    socket.on('secureConnect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'))
    await closed
    expect(received).toMatch(/^HTTP\/1\.1 200 /)
  })

  it('drops a plain HTTP client that sends its headers a byte at a time after the header timeout, while serving others', async () => {
    const socket = net.connect(target().port, '127.0.0.1')
    socket.on('error', () => {})
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    const closed = waitForClose(socket)
    socket.on('connect', () => trickle(socket, http('GET /trust HTTP/1.1', 'X-Slow: yes'), 10))
    await expectServedMeanwhile()
    await expectServedMeanwhile()
    const ms = await closed
    expect(ms).toBeGreaterThanOrEqual(timeouts.headersMs - 100)
    expect([undefined, '408']).toContain(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1])
  })

  it('drops a plain HTTP client that sends one byte and then nothing after the header timeout', async () => {
    const socket = net.connect(target().port, '127.0.0.1', () => socket.write('G'))
    socket.on('error', () => {})
    // Read what comes (a 408, perhaps): a socket closes only once what it received has been read.
    socket.resume()
    const closed = waitForClose(socket)
    await expectServedMeanwhile()
    const ms = await closed
    expect(ms).toBeGreaterThanOrEqual(timeouts.headersMs - 100)
  })

  it('closes a plain HTTP connection whose request body trickles in, within the request timeout', async () => {
    const socket = net.connect(target().port, '127.0.0.1', () => {
      socket.write(['POST /trust HTTP/1.1', 'Host: localhost', 'Content-Length: 1000', '', ''].join('\r\n'))
      trickle(socket, 'a'.repeat(1000), 20)
    })
    socket.on('error', () => {})
    socket.resume()
    const closed = waitForClose(socket)
    await expectServedMeanwhile()
    await closed
  })

  it('closes an idle plain HTTP keep-alive connection after its answer within the keep-alive plus header timeouts', async () => {
    const socket = net.connect(target().port, '127.0.0.1', () =>
      socket.write('GET /trust HTTP/1.1\r\nHost: localhost\r\n\r\n'),
    )
    socket.on('error', () => {})
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    await waitForClose(socket)
    expect(received).toMatch(/^HTTP\/1\.1 200 /)
  })

  it('drops all of these at once while serving others', async () => {
    const sockets: net.Socket[] = [
      net.connect(target().port, '127.0.0.1'),
      tlsConnect(target()),
      tlsConnect(target()),
      tlsConnect(target()),
      net.connect(target().port, '127.0.0.1'),
      net.connect(target().port, '127.0.0.1'),
    ]
    for (const socket of sockets) socket.on('error', () => {})
    sockets[2]!.on('secureConnect', () => trickle(sockets[2]!, http('GET / HTTP/1.1'), 10))
    sockets[3]!.on('secureConnect', () => trickle(sockets[3]!, http('GET / HTTP/1.1'), 200))
    sockets[4]!.on('connect', () => trickle(sockets[4]!, http('GET / HTTP/1.1'), 10))
    sockets[5]!.on('connect', () => trickle(sockets[5]!, http('GET / HTTP/1.1'), 200))
    for (const socket of sockets.slice(4)) socket.resume()
    const closed = Promise.all(sockets.map((socket) => waitForClose(socket)))
    await Promise.all([expectServedMeanwhile(), expectServedMeanwhile(), expectServedMeanwhile()])
    await closed
  })

  itKeepsServing(target)
})

describe('NODE_ENV production versus development', () => {
  const production = useBlockServer({nodeEnv: 'production'})
  const development = useBlockServer({nodeEnv: 'development'})

  const probes: {name: string; bytes: (target: Target) => string}[] = [
    {name: 'no credentials', bytes: () => http('GET /api/secret HTTP/1.1')},
    {name: 'no credentials from a browser', bytes: () => http('GET / HTTP/1.1', 'Accept: text/html')},
    {
      name: 'wrong credentials',
      bytes: () => http('GET /api/secret HTTP/1.1', authorization({username: 'x', password: 'y'})),
    },
    {
      name: 'a malformed Authorization header',
      bytes: () => http('GET /api/secret HTTP/1.1', 'Authorization: Basic !!!'),
    },
    {
      name: 'an unknown path',
      bytes: (target) => http('GET /nowhere HTTP/1.1', authorization(target.credentials)),
    },
    {
      name: 'a malformed percent-encoding',
      bytes: (target) => http('GET /api/%E0%A4%A HTTP/1.1', authorization(target.credentials)),
    },
    {
      name: 'a traversal',
      bytes: (target) =>
        http('GET /api/secret/..%2f..%2fetc%2fpasswd HTTP/1.1', authorization(target.credentials)),
    },
    {
      name: 'DELETE',
      bytes: (target) => http('DELETE /api/secret HTTP/1.1', authorization(target.credentials)),
    },
    {
      name: 'a body with a malformed chunk',
      bytes: (target) =>
        http('POST /api/secret HTTP/1.1', authorization(target.credentials), 'Transfer-Encoding: chunked') +
        'zz\r\n\r\n',
    },
    {name: 'a NUL in a header', bytes: () => http('GET /api/secret HTTP/1.1', 'X-A: \0')},
    {name: 'a 9 KiB header', bytes: () => http('GET /api/secret HTTP/1.1', `X-A: ${'a'.repeat(9216)}`)},
    {name: 'an unknown method', bytes: () => http('FOO /api/secret HTTP/1.1')},
    {name: 'the healthz route', bytes: () => http('GET /healthz HTTP/1.1')},
  ]

  it.each(probes)('answers $name identically in both, without a stack trace', async ({bytes}) => {
    const [inProduction, inDevelopment] = await Promise.all([
      exchange(production(), bytes(production())),
      exchange(development(), bytes(development())),
    ])
    const comparable = (response: Exchange) => {
      const headers = Object.entries(response.headers).filter(([name]) => name !== 'date')
      return {status: response.status, headers, body: response.body}
    }
    expect(comparable(inDevelopment)).toEqual(comparable(inProduction))
    expect(inProduction.status).not.toBe(500)
    for (const response of [inProduction, inDevelopment]) expectNothingLeaked(response)
  })

  itKeepsServing(production)
  itKeepsServing(development)
})

describe('clients that disconnect mid-request or mid-response', () => {
  const target = useBlockServer()

  function connectThen(onSecure: (socket: tls.TLSSocket) => void): Promise<number> {
    const socket = tlsConnect(target())
    socket.on('error', () => {})
    socket.on('secureConnect', () => onSecure(socket))
    return waitForClose(socket)
  }

  it('keeps serving after 50 clients destroy their socket right after writing an authenticated request', async () => {
    const bytes = http('GET /api/secret HTTP/1.1', authorization(target().credentials))
    await Promise.all(
      Array.from({length: 50}, () =>
        connectThen((socket) => {
          socket.write(bytes)
          socket.destroy()
        }),
      ),
    )
    await expectSecretServed(target())
  })

  it('keeps serving after 50 clients destroy their socket on the first byte of the page', async () => {
    const bytes = http('GET / HTTP/1.1', authorization(target().credentials))
    await Promise.all(
      Array.from({length: 50}, () =>
        connectThen((socket) => {
          socket.write(bytes)
          socket.once('data', () => socket.destroy())
        }),
      ),
    )
    await expectSecretServed(target())
  })

  it('keeps serving after 50 clients reset (RST) the connection after writing a request', async () => {
    const requests = [
      http('GET /api/secret HTTP/1.1'),
      http('GET /api/secret HTTP/1.1', authorization(target().credentials)),
    ]
    await Promise.all(
      Array.from({length: 50}, (_, i) => {
        // The reset goes on the TCP socket underneath: a TLS socket cannot send one itself.
        const tcp = net.connect(target().port, '127.0.0.1')
        tcp.on('error', () => {})
        const socket = tls.connect({socket: tcp, ca: target().ca, servername: 'localhost'})
        socket.on('error', () => {})
        socket.on('secureConnect', () => {
          socket.write(requests[i % 2]!)
          setImmediate(() => tcp.resetAndDestroy())
        })
        return waitForClose(tcp)
      }),
    )
    await expectSecretServed(target())
  })

  it('keeps serving after 20 clients half-close right after their request, and answers them', async () => {
    const statuses = await Promise.all(
      Array.from(
        {length: 20},
        () =>
          new Promise<string>((resolve) => {
            let received = ''
            const socket = tlsConnect(target())
            socket.on('error', () => {})
            socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
            socket.on('secureConnect', () => socket.end(http('GET /api/secret HTTP/1.1')))
            socket.on('close', () => resolve(received.slice(9, 12)))
          }),
      ),
    )
    expect(statuses).toEqual(Array<string>(20).fill('401'))
    await expectSecretServed(target())
  })

  it('keeps serving after 50 clients abandon the TLS handshake halfway', async () => {
    await Promise.all(
      Array.from({length: 50}, () => {
        const socket = net.connect(target().port, '127.0.0.1', () => {
          socket.write(Buffer.from('160301020001', 'hex'))
          setTimeout(() => socket.destroy(), 5)
        })
        socket.on('error', () => {})
        return waitForClose(socket)
      }),
    )
    await expectSecretServed(target())
  })

  itKeepsServing(target)
})

describe('200 concurrent clients', () => {
  const target = useBlockServer()

  it('answers 200 authenticated GET /api/secret on 200 separate connections, all with 200', async () => {
    const {url, ca, credentials} = target()
    const responses = await Promise.all(
      Array.from({length: 200}, () => request(`${url}/api/secret`, {ca, auth: credentials})),
    )
    expect(responses.map((response) => response.status)).toEqual(Array<number>(200).fill(200))
    for (const response of responses) expect(JSON.parse(response.body)).toEqual({message: secret})
  })

  it('answers 100 wrong and 100 right concurrent logins each on its own merits', async () => {
    const {url, ca, credentials} = target()
    const wrong = {username: credentials.username, password: 'guess'}
    const responses = await Promise.all(
      Array.from({length: 200}, (_, i) =>
        request(`${url}/api/secret`, {ca, auth: i % 2 ? credentials : wrong}),
      ),
    )
    responses.forEach((response, i) => {
      expect(response.status, `request ${i}`).toBe(i % 2 ? 200 : 401)
      if (i % 2 === 0) expect(response.body).not.toContain(secret)
    })
  })

  itKeepsServing(target)
})

describe('after the whole battery', () => {
  it.skipIf(!gc)('grew the heap by less than 50 MiB', () => {
    gc!()
    const growth = process.memoryUsage().heapUsed - heapBefore
    expect(growth).toBeLessThan(50 * 1024 * 1024)
  })
})
