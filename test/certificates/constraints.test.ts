import {execFile, execFileSync, spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:https'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createAuthority, issueServerCertificate, type PemPair} from '../../src/certificates/authority.js'
import {
  homeConstraints,
  homeDomains,
  homeRanges,
  permits,
  readNameConstraints,
} from '../../src/certificates/constraints.js'
import {opensslVerify, unconstrainedAuthority} from '../helpers/authorities.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()

describe('homeConstraints', () => {
  it('permits the home domains and ranges, the machine names and each --san name they do not cover', () => {
    const constraints = homeConstraints([
      'pi',
      'pi.local',
      'nas.home.arpa',
      'Media.Example.NET',
      '*.apps.example.org',
      '192.168.1.20',
      '203.0.113.7',
      '2001:db8::5',
      'not_a_host',
    ])
    expect(constraints).toEqual({
      dnsNames: [...homeDomains, 'pi', 'pi.local', 'media.example.net', 'apps.example.org'],
      ipRanges: [...homeRanges, '203.0.113.7/32', '2001:db8::5/128'],
    })
    expect(homeDomains).toEqual(['localhost', 'home.arpa', 'lan', 'internal'])
    expect(homeRanges).toEqual([
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '100.64.0.0/10',
      '127.0.0.0/8',
      '169.254.0.0/16',
      '::1/128',
      'fc00::/7',
      'fe80::/10',
    ])
  })
})

describe('permits', () => {
  const constraints = homeConstraints(['pi', 'pi.local'])
  it.each([
    ['localhost', true],
    ['home.arpa', true],
    ['nas.home.arpa', true],
    ['*.home.arpa', true],
    ['PI.LOCAL', true],
    ['router.lan', true],
    ['ha.internal', true],
    ['other.local', false],
    ['evilhome.arpa', false],
    ['home.arpa.example', false],
    ['bank.example', false],
    ['10.9.8.7', true],
    ['172.31.255.1', true],
    ['172.32.0.1', false],
    ['100.100.1.1', true],
    ['8.8.8.8', false],
    ['::1', true],
    ['fd00:1::10', true],
    ['fe80::1', true],
    ['2001:db8::1', false],
    ['::ffff:10.0.0.1', false],
  ])('%s: %s', (host, expected) => {
    expect(permits(constraints, host)).toBe(expected)
  })

  it('permits anything for a CA without constraints, and any address when only DNS names are constrained', () => {
    expect(permits(undefined, 'bank.example')).toBe(true)
    expect(permits({dnsNames: ['lan'], ipRanges: []}, '8.8.8.8')).toBe(true)
    expect(permits({dnsNames: ['lan'], ipRanges: []}, 'bank.example')).toBe(false)
  })
})

describe('readNameConstraints', () => {
  it('reads back the single addresses and names a CA permits beyond the home ones', async () => {
    const constraints = homeConstraints(['media.example.net', '203.0.113.7', '2001:db8::5', '2001:0:1::5'])
    const authority = await createAuthority('homeauth test CA', constraints)
    expect(readNameConstraints(authority.cert)).toEqual(constraints)
  })

  it('reads the permitted DNS names and ranges of a CA the openssl CLI made, and nothing else', () => {
    const dir = tempDir()
    const key = path.join(dir, 'ca-key.pem')
    const cert = path.join(dir, 'ca.pem')
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      key,
    ])
    const nameConstraints = [
      'critical',
      'permitted;DNS:lan',
      'permitted;email:me@example.org',
      'permitted;IP:192.168.0.0/255.255.0.0',
      'permitted;dirName:dir_sect',
      'permitted;IP:fd00:0:0:0:0:0:0:0/ffff:ff00:0:0:0:0:0:0',
      'permitted;DNS:Pi.Example.ORG',
      'excluded;DNS:bank.example',
      'excluded;IP:10.0.0.0/255.0.0.0',
    ].join(',')
    writeFileSync(
      path.join(dir, 'openssl.cnf'),
      `[req]\ndistinguished_name = dn\n[dn]\n[dir_sect]\nCN = home\n[ext]\nbasicConstraints = critical,CA:true\nnameConstraints = ${nameConstraints}\n`,
    )
    execFileSync('openssl', [
      ...['req', '-x509', '-new', '-key', key, '-sha256', '-days', '30', '-out', cert],
      ...['-subj', '/CN=openssl test CA', '-config', path.join(dir, 'openssl.cnf'), '-extensions', 'ext'],
    ])
    expect(readNameConstraints(readFileSync(cert, 'utf8'))).toEqual({
      dnsNames: ['lan', 'Pi.Example.ORG'],
      ipRanges: ['192.168.0.0/16', 'fd00::/24'],
    })
  })

  it('refuses what is not a certificate', () => {
    expect(() => readNameConstraints('not a certificate')).toThrow()
  })
})

describe('a CA with the home constraints', () => {
  const constraints = homeConstraints(['pi', 'pi.local'])
  let authority: PemPair
  let home: PemPair
  let bank: PemPair
  beforeAll(async () => {
    authority = await createAuthority('homeauth test CA', constraints)
    home = await issueServerCertificate(authority, ['localhost', '127.0.0.1', '::1', 'pi.home.arpa'])
    // Signed by the same CA key: what whoever copied that key could make.
    bank = await issueServerCertificate(authority, ['bank.example'])
  })

  it('carries them as a critical nameConstraints extension, read back as written', async () => {
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], {
      input: authority.cert,
      encoding: 'utf8',
    })
    expect(text).toContain('X509v3 Name Constraints: critical')
    for (const line of [
      'DNS:home.arpa',
      'DNS:pi.local',
      'IP:10.0.0.0/255.0.0.0',
      'IP:100.64.0.0/255.192.0.0',
    ]) {
      expect(text).toContain(line)
    }
    expect(text).toMatch(/IP:FC00:0:0:0:0:0:0:0\/FE00:0:0:0:0:0:0:0/)
    expect(readNameConstraints(authority.cert)).toEqual(constraints)
  })

  it('reads as unconstrained when it is an older CA without the extension', () => {
    expect(readNameConstraints(unconstrainedAuthority(tempDir()).cert)).toBeUndefined()
  })

  it('issues a server certificate that passes openssl verify -x509_strict', () => {
    expect(opensslVerify(tempDir(), authority, home)).toEqual({
      status: 0,
      output: expect.stringMatching(/leaf\.pem: OK/),
    })
  })

  it('cannot vouch for bank.example to openssl verify, even signed with its key', () => {
    const {status, output} = opensslVerify(tempDir(), authority, bank)
    expect(status).not.toBe(0)
    expect(output).toContain('permitted subtree violation')
  })

  const python = ['python3', '/usr/bin/python3'].find(
    (command) => spawnSync(command, ['--version']).status === 0,
  )
  // A strict Python client (VERIFY_X509_STRICT, Python >= 3.13's default) that trusts only the CA.
  const handshake = `
import socket, ssl, sys
port, ca, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=ca)
context.verify_flags |= ssl.VERIFY_X509_STRICT
try:
    with context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=name):
        print("verified")
except ssl.SSLCertVerificationError as error:
    print(error.verify_message)
`

  describe.skipIf(!python)('to a strict Python client', () => {
    const servers: Server[] = []
    afterAll(() => servers.forEach((server) => server.close()))

    async function serve(pair: PemPair): Promise<number> {
      const server = createServer({...pair}, (_req, res) => res.end('ok'))
      servers.push(server)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      return (server.address() as AddressInfo).port
    }

    async function pythonSays(pair: PemPair, name: string): Promise<string> {
      const dir = tempDir()
      writeFileSync(path.join(dir, 'ca.pem'), authority.cert)
      writeFileSync(path.join(dir, 'client.py'), handshake)
      const port = await serve(pair)
      // Asynchronously: the TLS server runs in this process and must keep answering.
      const {stdout} = await promisify(execFile)(python!, [
        path.join(dir, 'client.py'),
        String(port),
        path.join(dir, 'ca.pem'),
        name,
      ])
      return stdout.trim()
    }

    it('vouches for the home server, and not for bank.example signed with the same key', async () => {
      expect(await pythonSays(home, 'pi.home.arpa')).toBe('verified')
      expect(await pythonSays(bank, 'bank.example')).toBe('permitted subtree violation')
    })
  })
})
