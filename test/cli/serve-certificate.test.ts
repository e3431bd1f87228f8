import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import tls from 'node:tls'

import {describe, expect, it} from 'vitest'

import {serveArgs, useCli} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startCli = useCli()
const credentials = ['-u', 'JeffLynne', '-p', 'ELO']

/** The certificate a server on 127.0.0.1 presents, trusting only `ca`. */
function servedCertificate(port: number, ca: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({host: '127.0.0.1', port, ca, servername: 'localhost'}, () => {
      resolve(socket.getPeerX509Certificate()!)
      socket.end()
    })
    socket.on('error', reject)
  })
}

describe('homeauth serve --san on an existing certificate', () => {
  it('reissues the certificate from the same CA to add the name, says so, and serves it', async () => {
    const configDir = tempDir()
    const first = startCli(serveArgs(configDir, ...credentials))
    await first.waitFor(/Press Ctrl\+C/)
    first.child.kill('SIGINT')
    expect((await first.exited).code).toBe(0)
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    expect(
      new X509Certificate(readFileSync(path.join(configDir, 'server.pem'))).subjectAltName,
    ).not.toContain('pi.home.arpa')

    const second = startCli(serveArgs(configDir, ...credentials, '--san', 'pi.home.arpa'))
    const [, port] = await second.waitForBanner()
    await second.waitFor(/Press Ctrl\+C/)
    expect(second.stdout).toContain('Server certificate reissued to add pi.home.arpa')
    expect(readFileSync(path.join(configDir, 'ca.pem'), 'utf8')).toBe(ca)
    const served = await servedCertificate(Number(port), ca)
    expect(served.subjectAltName).toContain('DNS:pi.home.arpa')
    expect(served.checkIssued(new X509Certificate(ca))).toBe(true)
  })
})
