import {X509Certificate} from 'node:crypto'
import {chmodSync, lstatSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {createAuthority, issueServerCertificate} from '../../src/certificates/authority.js'
import {homeConstraints} from '../../src/certificates/constraints.js'
import {
  certificateFiles,
  describeStoredCertificates,
  loadOrCreateServerTls,
  loadProvidedTls,
  renewServerCertificate,
  requireAuthority,
} from '../../src/certificates/store.js'
import {withConfigLock} from '../../src/config/files.js'
import {ExitCode, type HomeauthError} from '../../src/errors.js'
import {homeauthCommand} from '../../src/invocation.js'
import {machineNames} from '../../src/net/hosts.js'
import {storeAuthority, unconstrainedAuthority} from '../helpers/authorities.js'
import {homeauthRejection} from '../helpers/errors.js'
import {useFakeLan} from '../helpers/lan.js'
import {useTempDir} from '../helpers/temp.js'
import {runWriter, writePairsFile} from '../helpers/writers.js'

const tempDir = useTempDir()
const setLan = useFakeLan()
const day = 24 * 60 * 60 * 1000

function mode(file: string): number {
  return statSync(file).mode & 0o777
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    ['ca.pem', 'ca-key.pem', 'server.pem', 'server-key.pem'].map((name) => [
      name,
      readFileSync(path.join(dir, name), 'utf8'),
    ]),
  )
}

async function expectSetupError(promise: Promise<unknown>, message: RegExp): Promise<HomeauthError> {
  const error = await homeauthRejection(promise, ExitCode.invalidSetup)
  expect(error.message).toMatch(message)
  return error
}

describe('loadOrCreateServerTls', () => {
  it('makes the CA and server certificate on first use, with the documented file modes', async () => {
    const dir = path.join(tempDir(), 'config')
    const tls = await loadOrCreateServerTls(dir)
    expect(tls.provenance).toBe('created')
    expect(mode(dir)).toBe(0o700)
    expect(mode(path.join(dir, 'ca.pem'))).toBe(0o644)
    expect(mode(path.join(dir, 'server.pem'))).toBe(0o644)
    expect(mode(path.join(dir, 'ca-key.pem'))).toBe(0o600)
    expect(mode(path.join(dir, 'server-key.pem'))).toBe(0o600)
    const ca = new X509Certificate(readFileSync(path.join(dir, 'ca.pem')))
    expect(tls.authority?.fingerprint).toBe(ca.fingerprint256)
    expect(tls.authority?.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  })

  it('reuses the stored certificates on the next start', async () => {
    const dir = tempDir()
    const first = await loadOrCreateServerTls(dir)
    const before = snapshot(dir)
    const second = await loadOrCreateServerTls(dir)
    expect(second.provenance).toBe('reused')
    expect(second.certificate.fingerprint).toBe(first.certificate.fingerprint)
    expect(snapshot(dir)).toEqual(before)
  })

  it('renews the server certificate from the same CA when fewer than 30 days are left', async () => {
    const dir = tempDir()
    const first = await loadOrCreateServerTls(dir, {now: new Date(Date.now() - 380 * day)})
    const renewed = await loadOrCreateServerTls(dir)
    expect(renewed.provenance).toBe('renewed')
    expect(renewed.authority?.fingerprint).toBe(first.authority?.fingerprint)
    expect(renewed.certificate.fingerprint).not.toBe(first.certificate.fingerprint)
    expect(renewed.certificate.daysLeft).toBeGreaterThan(390)
    expect(readdirSync(dir).filter((entry) => entry.startsWith('.data-'))).toHaveLength(1)
  })

  it('reissues a certificate that lacks a name asked for, from the same CA, and says which names it added', async () => {
    const dir = tempDir()
    const first = await loadOrCreateServerTls(dir)
    const caBefore = readFileSync(path.join(dir, 'ca.pem'), 'utf8')
    const reissued = await loadOrCreateServerTls(dir, {extraHosts: ['Pi.Home.Arpa', 'FD00:1:0:0::1']})
    expect(reissued.provenance).toBe('renewed')
    expect(reissued.addedHosts).toEqual(['pi.home.arpa', 'fd00:1::1'])
    expect(reissued.certificate.fingerprint).not.toBe(first.certificate.fingerprint)
    expect(reissued.certificate.hosts).toEqual(expect.arrayContaining(['pi.home.arpa', 'fd00:1::1']))
    expect(readFileSync(path.join(dir, 'ca.pem'), 'utf8')).toBe(caBefore)
    expect(reissued.authority?.fingerprint).toBe(first.authority?.fingerprint)
    const server = new X509Certificate(readFileSync(path.join(dir, 'server.pem')))
    expect(server.checkIssued(new X509Certificate(caBefore))).toBe(true)
    expect(server.fingerprint256).toBe(reissued.certificate.fingerprint)
  })

  it('reissues from the same CA at start when the machine has a LAN address the certificate lacks (DHCP gave it a new one)', async () => {
    setLan(['192.168.50.10'])
    const dir = tempDir()
    const first = await loadOrCreateServerTls(dir)
    expect(first.certificate.hosts).toContain('192.168.50.10')
    setLan(['192.168.50.77'])
    const reissued = await loadOrCreateServerTls(dir)
    expect(reissued.provenance).toBe('renewed')
    expect(reissued.addedHosts).toEqual(['192.168.50.77'])
    expect(reissued.certificate.hosts).toContain('192.168.50.77')
    expect(reissued.certificate.hosts).not.toContain('192.168.50.10')
    expect(reissued.authority?.fingerprint).toBe(first.authority?.fingerprint)
  })

  it('keeps the certificate when a LAN address went away and none came', async () => {
    setLan(['192.168.50.10', 'fd00:1::10'])
    const dir = tempDir()
    const first = await loadOrCreateServerTls(dir)
    setLan(['192.168.50.10'])
    const second = await loadOrCreateServerTls(dir)
    expect(second.provenance).toBe('reused')
    expect(second.certificate.fingerprint).toBe(first.certificate.fingerprint)
  })

  it('reuses a certificate that has every name asked for, however it is spelt', async () => {
    const dir = tempDir()
    const first = await loadOrCreateServerTls(dir, {extraHosts: ['pi.home.arpa', '2001:db8::1']})
    const before = snapshot(dir)
    const second = await loadOrCreateServerTls(dir, {extraHosts: ['PI.home.arpa', '2001:DB8:0:0:0:0:0:1']})
    expect(second.provenance).toBe('reused')
    expect(second.addedHosts).toBeUndefined()
    expect(second.certificate.fingerprint).toBe(first.certificate.fingerprint)
    expect(snapshot(dir)).toEqual(before)
  })

  it('refuses a private key that other users can read, naming the chmod that fixes it', async () => {
    const dir = tempDir()
    await loadOrCreateServerTls(dir)
    const key = path.join(dir, 'server-key.pem')
    chmodSync(key, 0o644)
    const error = await expectSetupError(
      loadOrCreateServerTls(dir),
      /server-key\.pem can be read by other users \(mode 0644\)/,
    )
    expect(error.suggestions).toEqual([`Run: chmod 600 ${key}`])
  })

  it('refuses a corrupt key with a clear error and leaves every file as it was', async () => {
    const dir = tempDir()
    await loadOrCreateServerTls(dir)
    writeFileSync(path.join(dir, 'server-key.pem'), '-----BEGIN PRIVATE KEY-----\ntruncated')
    const before = snapshot(dir)
    await expectSetupError(loadOrCreateServerTls(dir), /server-key\.pem is not a PEM private key/)
    expect(snapshot(dir)).toEqual(before)
  })

  it('refuses a server key that does not match its certificate', async () => {
    const dir = tempDir()
    await loadOrCreateServerTls(dir)
    const key = path.join(dir, 'server-key.pem')
    writeFileSync(key, readFileSync(path.join(dir, 'ca-key.pem')))
    const error = await expectSetupError(loadOrCreateServerTls(dir), /does not match the certificate/)
    expect(error.message).toBe(
      `The key in ${key} does not match the certificate in ${path.join(dir, 'server.pem')}.`,
    )
    expect(error.suggestions).toEqual([
      `Make a new server certificate from the CA with: ${homeauthCommand('cert renew')}`,
    ])
  })

  it('keeps the public names as links through one switchable generation directory', async () => {
    const dir = tempDir()
    await loadOrCreateServerTls(dir)
    expect(lstatSync(path.join(dir, 'server.pem')).isSymbolicLink()).toBe(true)
    expect(lstatSync(path.join(dir, '.data')).isSymbolicLink()).toBe(true)
  })
})

describe('describeStoredCertificates while another process switches the certificates', () => {
  it('never pairs the certificate of one generation with the key of another', async () => {
    const dir = tempDir()
    const pairsFile = path.join(tempDir(), 'pairs.json')
    const {authority, pairs} = await writePairsFile(pairsFile)
    await withConfigLock(dir, ({updateFileSet}) =>
      updateFileSet([
        ...certificateFiles(authority, pairs[0]!),
        {name: 'counts.json', data: '{"a":0}', mode: 0o600},
      ]),
    )
    let writing = true
    const writer = runWriter({dir, who: 'a', rounds: 80, pairsFile}).finally(() => (writing = false))
    const failures = new Set<string>()
    while (writing) {
      await describeStoredCertificates(dir).catch((error: Error) => failures.add(error.message))
    }
    expect(await writer).toEqual({code: 0, stderr: ''})
    expect([...failures]).toEqual([])
  })
})

describe('loadOrCreateServerTls with a constrained CA', () => {
  it('makes a CA that permits the --san names it was made with', async () => {
    const dir = tempDir()
    const tls = await loadOrCreateServerTls(dir, {extraHosts: ['media.example.net', '203.0.113.7']})
    expect(tls.authority?.nameConstraints).toEqual(
      homeConstraints([...machineNames(), 'media.example.net', '203.0.113.7']),
    )
    expect(tls.certificate.hosts).toEqual(expect.arrayContaining(['media.example.net', '203.0.113.7']))
  })

  it('leaves the machine’s global and public addresses out, and does not reissue for them', async () => {
    setLan(['192.168.50.10', '2001:db8::10', '203.0.113.9', 'fd00:1::10'])
    const dir = tempDir()
    const first = await loadOrCreateServerTls(dir)
    expect(first.certificate.hosts).toEqual(expect.arrayContaining(['192.168.50.10', 'fd00:1::10']))
    expect(first.certificate.hosts).not.toContain('2001:db8::10')
    expect(first.certificate.hosts).not.toContain('203.0.113.9')
    const second = await loadOrCreateServerTls(dir)
    expect(second.provenance).toBe('reused')
  })

  it('refuses a --san name outside the constraints, naming it and the init that makes a CA for it, and leaves every file as it was', async () => {
    const dir = tempDir()
    await loadOrCreateServerTls(dir, {extraHosts: ['nas.home.arpa']})
    const before = snapshot(dir)
    const error = await homeauthRejection(
      loadOrCreateServerTls(dir, {extraHosts: ['nas.home.arpa', 'bank.example']}),
      ExitCode.usage,
    )
    expect(error.message).toBe(
      "The CA cannot vouch for bank.example: its name constraints permit only the home's names and private addresses.",
    )
    expect(error.suggestions).toEqual([
      `Make a new CA that includes it with: ${homeauthCommand('init --new-ca --san nas.home.arpa --san bank.example')} (every device must then trust the new CA).`,
    ])
    expect(snapshot(dir)).toEqual(before)
  })

  it('refuses it in cert renew too', async () => {
    const dir = tempDir()
    await loadOrCreateServerTls(dir)
    const before = snapshot(dir)
    await homeauthRejection(renewServerCertificate(dir, ['2001:db8::1']), ExitCode.usage)
    expect(snapshot(dir)).toEqual(before)
  })

  it('changes nothing for an older CA without constraints: any name, every address', async () => {
    setLan(['192.168.50.10', '2001:db8::10'])
    const dir = path.join(tempDir(), 'config')
    await storeAuthority(dir, unconstrainedAuthority(tempDir()))
    const tls = await loadOrCreateServerTls(dir, {extraHosts: ['bank.example']})
    expect(tls.authority?.nameConstraints).toBeUndefined()
    expect(tls.certificate.hosts).toEqual(expect.arrayContaining(['bank.example', '2001:db8::10']))
    const renewed = await renewServerCertificate(dir, ['other.example'])
    expect(renewed.hosts).toContain('other.example')
  })
})

describe('requireAuthority', () => {
  it('gives the stored CA as devices get it: file, SHA-256 fingerprint, PEM and name constraints', async () => {
    const dir = tempDir()
    const served = await loadOrCreateServerTls(dir)
    const pem = readFileSync(path.join(dir, 'ca.pem'), 'utf8')
    expect(await requireAuthority(dir)).toEqual({
      file: path.join(dir, 'ca.pem'),
      fingerprint: new X509Certificate(pem).fingerprint256,
      cert: pem,
      nameConstraints: homeConstraints(machineNames()),
    })
    expect(served.authority).toEqual(await requireAuthority(dir))
  })

  it('exits 8 with the way to make one when there is no CA yet', async () => {
    const dir = tempDir()
    const error = await expectSetupError(requireAuthority(dir), /^There is no CA in .* yet\.$/)
    expect(error.suggestions).toEqual([
      `Run: ${homeauthCommand('init')} (or ${homeauthCommand('serve')}, which makes one).`,
    ])
  })
})

describe('loadProvidedTls', () => {
  async function writePair(dir: string) {
    const authority = await createAuthority('test', homeConstraints([]))
    const server = await issueServerCertificate(authority, ['localhost'])
    const cert = path.join(dir, 'cert.pem')
    const key = path.join(dir, 'key.pem')
    writeFileSync(cert, server.cert)
    writeFileSync(key, server.key, {mode: 0o600})
    return {cert, key, otherKey: authority.key}
  }

  it('loads a matching certificate and key', async () => {
    const dir = tempDir()
    const {cert, key} = await writePair(dir)
    const tls = await loadProvidedTls(cert, key)
    expect(tls.provenance).toBe('provided')
    expect(tls.authority).toBeUndefined()
  })

  it('names a certificate file that does not exist', async () => {
    const dir = tempDir()
    const {key} = await writePair(dir)
    await expectSetupError(
      loadProvidedTls(path.join(dir, 'missing.pem'), key),
      /The certificate file .*missing\.pem does not exist/,
    )
  })

  it('refuses a key that does not belong to the certificate', async () => {
    const dir = tempDir()
    const {cert, otherKey} = await writePair(dir)
    const wrongKey = path.join(dir, 'wrong.pem')
    writeFileSync(wrongKey, otherKey, {mode: 0o600})
    await expectSetupError(loadProvidedTls(cert, wrongKey), /does not match the certificate/)
  })

  it('refuses a file that is not a certificate', async () => {
    const dir = tempDir()
    const {key} = await writePair(dir)
    const notCert = path.join(dir, 'notes.txt')
    writeFileSync(notCert, 'hello')
    await expectSetupError(loadProvidedTls(notCert, key), /notes\.txt is not a PEM certificate/)
  })
})
