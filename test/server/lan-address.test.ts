import {X509Certificate} from 'node:crypto'
import {chmodSync, readFileSync} from 'node:fs'
import https from 'node:https'
import path from 'node:path'
import tls from 'node:tls'

import {describe, expect, it} from 'vitest'

import {loadOrCreateServerTls} from '../../src/certificates/store.js'
import {lockConfigDir} from '../../src/config/lock.js'
import {defaultCertificateWatchTiming} from '../../src/server/certificate-watch.js'
import {until, useFakeLan} from '../helpers/lan.js'
import {useTestServer} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()
const setLan = useFakeLan()

/** The certificate a new connection to the server on 127.0.0.1 gets, with a client trusting only `ca`. */
function presentedCertificate(port: number, ca: string): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({host: '127.0.0.1', port, ca, servername: 'localhost'}, () => {
      resolve(socket.getPeerCertificate())
      socket.end()
    })
    socket.on('error', reject)
  })
}

/** A GET over `agent`: its status, and whether it went over a connection the agent had kept open. */
function get(agent: https.Agent, url: string): Promise<{status: number; reusedSocket: boolean}> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, {agent, servername: 'localhost'}, (res) => {
      res.resume()
      res.on('end', () => resolve({status: res.statusCode ?? 0, reusedSocket: req.reusedSocket}))
    })
    req.on('error', reject)
  })
}

const fast = {hostsCheckMs: 20}

/**
 * A server on 127.0.0.1 whose machine has the LAN `addresses`, with what it reports on a reload
 * (and when); by default it looks at the addresses every 20 ms.
 */
async function serveOn(
  addresses: string[],
  options: Parameters<typeof startServer>[1] & {configDir?: string} = {},
) {
  setLan(addresses)
  const reloads: string[] = []
  const reloadTimes: number[] = []
  const {configDir = tempDir(), ...serveOptions} = options
  const server = await startServer(configDir, {
    certificateWatch: fast,
    onReload: (message) => {
      reloads.push(message)
      reloadTimes.push(Date.now())
    },
    ...serveOptions,
  })
  return {server, configDir, reloads, reloadTimes}
}

describe('a running server whose machine gets a new LAN address', () => {
  it('reissues the certificate from the same CA, serves it to new connections, keeps open ones, and logs one line naming the address', async () => {
    const {server, configDir, reloads} = await serveOn(['192.168.50.10'])
    expect(server.tls.certificate.hosts).toContain('192.168.50.10')
    const agent = new https.Agent({keepAlive: true, maxSockets: 1, ca: server.ca})
    try {
      expect(await get(agent, `${server.url}/healthz`)).toEqual({status: 200, reusedSocket: false})

      setLan(['192.168.50.77'])
      await until('the reissue', () => reloads.length > 0)
      expect(reloads).toEqual([
        expect.stringMatching(
          /^server certificate reissued from the same CA to add 192\.168\.50\.77 \(devices need nothing new\), server certificate fingerprint [0-9A-F:]{95} \(valid until \d{4}-\d\d-\d\d\)$/,
        ),
      ])

      expect(await get(agent, `${server.url}/healthz`)).toEqual({status: 200, reusedSocket: true})
      const presented = await presentedCertificate(server.listener.port, server.ca)
      expect(tls.checkServerIdentity('192.168.50.77', presented)).toBeUndefined()
      expect(readFileSync(path.join(configDir, 'ca.pem'), 'utf8')).toBe(server.ca)
      const stored = new X509Certificate(readFileSync(path.join(configDir, 'server.pem')))
      expect(stored.fingerprint256).toBe(server.tls.certificate.fingerprint)
      expect(stored.checkIssued(new X509Certificate(server.ca))).toBe(true)
      expect(server.tls.certificate.hosts).not.toContain('192.168.50.10')
    } finally {
      agent.destroy()
    }
  })

  it('reissues under the config lock: not while another homeauth command is changing the directory', async () => {
    const {server, configDir, reloads} = await serveOn(['192.168.50.10'])
    const lock = await lockConfigDir(configDir)
    setLan(['192.168.50.77'])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(reloads).toEqual([])
    await lock.release()
    await until('the reissue', () => reloads.length === 1)
    expect(server.tls.certificate.hosts).toContain('192.168.50.77')
  })

  it('reissues at most once per minReissueMs, so a flapping interface cannot churn certificates', async () => {
    const {server, reloads, reloadTimes} = await serveOn(['192.168.50.10'], {
      certificateWatch: {hostsCheckMs: 20, minReissueMs: 2_000},
    })
    setLan(['192.168.50.77'])
    await until('the first reissue', () => reloads.length === 1)
    setLan(['192.168.50.10'])
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(reloads).toHaveLength(1)
    expect(server.tls.certificate.hosts).not.toContain('192.168.50.10')
    await until('the second reissue', () => reloads.length === 2)
    expect(reloads[1]).toContain('to add 192.168.50.10 ')
    expect(reloadTimes[1]! - reloadTimes[0]!).toBeGreaterThan(1_000)
    expect(defaultCertificateWatchTiming.minReissueMs).toBe(60_000)
    expect(defaultCertificateWatchTiming.hostsCheckMs).toBeLessThanOrEqual(60_000)
  })

  it('waits a whole interval after a reissue at start-up before the next', async () => {
    setLan(['192.168.50.10'])
    const configDir = tempDir()
    await loadOrCreateServerTls(configDir)
    const {server, reloads} = await serveOn(['192.168.50.77'], {
      configDir,
      certificateWatch: {hostsCheckMs: 20, minReissueMs: 60_000},
    })
    expect(server.tls.addedHosts).toEqual(['192.168.50.77'])
    setLan(['192.168.50.99'])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(reloads).toEqual([])
  })

  it('leaves the certificate alone when an address goes away, or when only an address it has comes back', async () => {
    const {server, reloads} = await serveOn(['192.168.50.10', '192.168.50.77'])
    const fingerprint = server.tls.certificate.fingerprint
    setLan(['192.168.50.77'])
    await new Promise((resolve) => setTimeout(resolve, 200))
    setLan(['192.168.50.10', '192.168.50.77'])
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(reloads).toEqual([])
    expect(server.tls.certificate.fingerprint).toBe(fingerprint)
  })

  it('leaves a certificate given with --cert/--key alone: homeauth cannot reissue it', async () => {
    setLan(['192.168.50.10'])
    const issuing = tempDir()
    await loadOrCreateServerTls(issuing)
    const tlsFiles = {cert: path.join(issuing, 'server.pem'), key: path.join(issuing, 'server-key.pem')}
    const before = readFileSync(tlsFiles.cert, 'utf8')
    const failures: Error[] = []
    const {reloads} = await serveOn(['192.168.50.10'], {
      tlsFiles,
      onReloadFailed: (error) => failures.push(error),
    })
    setLan(['192.168.50.77'])
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect({reloads, failures}).toEqual({reloads: [], failures: []})
    expect(readFileSync(tlsFiles.cert, 'utf8')).toBe(before)
  })

  it('says the reissue failed and keeps serving the certificate it has when the config directory is broken', async () => {
    const failures: Error[] = []
    const {server, configDir} = await serveOn(['192.168.50.10'], {
      certificateWatch: {hostsCheckMs: 20, minReissueMs: 100},
      onReloadFailed: (error) => failures.push(error),
    })
    const fingerprint = server.tls.certificate.fingerprint
    chmodSync(path.join(configDir, 'server-key.pem'), 0o644)
    setLan(['192.168.50.77'])
    await until('the failure', () => failures.length > 0)
    expect(failures[0]!.message).toMatch(/server-key\.pem can be read by other users/)
    expect(server.tls.certificate.fingerprint).toBe(fingerprint)
    const presented = await presentedCertificate(server.listener.port, server.ca)
    expect(presented.fingerprint256).toBe(fingerprint)
  })
})
