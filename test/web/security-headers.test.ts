import http from 'node:http'
import type {AddressInfo} from 'node:net'

import express, {type RequestHandler} from 'express'
import helmet from 'helmet'
import {afterEach, describe, expect, it} from 'vitest'

import {
  helmetOptions,
  pagePolicyHeader,
  securityHeaders,
  type SecurityHeaderOptions,
} from '../../src/web/security-headers.js'

const servers: http.Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

/** The header lines, as sent, of a GET / to an express app that has only `middleware`. */
async function headerLines(middleware: RequestHandler): Promise<string[]> {
  const app = express()
  app.disable('x-powered-by')
  app.use(middleware)
  app.get('/', (_req, res) => void res.end())
  const server = http.createServer(app)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  const rawHeaders = await new Promise<string[]>((resolve, reject) => {
    http
      .get({host: '127.0.0.1', port, path: '/', agent: false}, (res) => {
        res.resume()
        resolve(res.rawHeaders)
      })
      .on('error', reject)
  })
  const lines: string[] = []
  for (let index = 0; index < rawHeaders.length; index += 2)
    lines.push(`${rawHeaders[index]}: ${rawHeaders[index + 1]}`)
  return lines.filter((line) => !/^(Date|Connection|Keep-Alive|Content-Length):/i.test(line))
}

describe('security headers', () => {
  const cases: [string, SecurityHeaderOptions][] = [
    ['the HTTPS app', {styleHashes: ['sha256-abc=', 'sha256-def=']}],
    [
      'the HTTPS app with frame ancestors',
      {styleHashes: [], frameAncestors: ['https://dashboard.local:8123']},
    ],
    ['the plain-HTTP app', {styleHashes: [], hsts: false}],
  ]
  for (const [name, options] of cases) {
    it(`are helmet's, byte for byte and in its order, and no-store, for ${name}`, async () => {
      const fromHelmet = await headerLines(helmet(helmetOptions(options)))
      const precomputed = await headerLines(securityHeaders(options))
      expect(fromHelmet.length).toBeGreaterThan(8)
      expect(precomputed).toEqual([...fromHelmet, 'Cache-Control: no-store'])
    })
  }
})

describe('a page’s own policy', () => {
  it('is written as helmet writes the apps’ policy: no script, no images, no framing, styles by hash', () => {
    expect(pagePolicyHeader({styleHashes: ['sha256-abc=', 'sha256-def=']})).toBe(
      "default-src 'none';style-src 'sha256-abc=' 'sha256-def=';base-uri 'none';form-action 'none';frame-ancestors 'none'",
    )
  })
})
