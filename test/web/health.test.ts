import {X509Certificate} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import https from 'node:https'
import type {AddressInfo} from 'node:net'

import {afterEach, beforeAll, describe, expect, it} from 'vitest'

import {createAuthority, issueServerCertificate, type PemPair} from '../../src/certificates/authority.js'
import {homeConstraints} from '../../src/certificates/constraints.js'
import {probeHealth, type Health} from '../../src/web/health.js'

let pair: PemPair
const servers: https.Server[] = []

beforeAll(async () => {
  const authority = await createAuthority('health test CA', homeConstraints([]))
  pair = await issueServerCertificate(authority, ['localhost', '127.0.0.1'])
})

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A server of the test's own that answers every request with `handler`; resolves with its base URL. */
async function hostileServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = https.createServer({key: pair.key, cert: pair.cert}, handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

/** probeHealth's answer, or a failure if it is still waiting after a deadline far beyond its own. */
function probeWithin(url: string, timeoutMs: number, generousMs = 20_000): Promise<Health> {
  return Promise.race([
    probeHealth(url, timeoutMs),
    new Promise<never>((_resolve, reject) =>
      setTimeout(
        () => reject(new Error(`probeHealth still waiting after ${generousMs} ms`)),
        generousMs,
      ).unref(),
    ),
  ])
}

describe('probeHealth', () => {
  it('reports a server that answers {"status":"ok"} as healthy, with the certificate it serves', async () => {
    const url = await hostileServer((_req, res) => res.end('{"status":"ok"}'))
    const health = await probeWithin(url, 5_000)
    expect(health.ok).toBe(true)
    expect(health.certificate?.fingerprint256).toBe(new X509Certificate(pair.cert).fingerprint256)
  })

  it('gives up by its deadline on a server that trickles its answer a byte at a time, forever', async () => {
    const url = await hostileServer((_req, res) => {
      res.writeHead(200, {'content-type': 'application/json'})
      res.write('{"status":"ok"')
      const trickle = setInterval(() => res.write(' '), 50)
      res.once('close', () => clearInterval(trickle))
    })
    const health = await probeWithin(url, 500)
    expect(health.ok).toBe(false)
    expect(health.certificate?.fingerprint256).toBe(new X509Certificate(pair.cert).fingerprint256)
  })

  it('stops reading an answer of many MiB after a few KiB and reports the server unhealthy', async () => {
    const paddingBytes = 64 * 1024 * 1024
    let written: Promise<number> | undefined
    const url = await hostileServer((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 'a')
      let paddingWritten = 0
      written = new Promise((resolve) => res.once('close', () => resolve(paddingWritten)))
      res.writeHead(200, {'content-type': 'application/json'})
      res.write('{"status":"ok","padding":"')
      // Only as fast as the client reads: once it stops, writing stops too.
      const pump = () => {
        while (paddingWritten < paddingBytes) {
          paddingWritten += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        res.end('"}')
      }
      pump()
    })
    const health = await probeWithin(url, 60_000)
    expect(health.ok).toBe(false)
    expect(await written).toBeLessThan(paddingBytes)
  })
})
