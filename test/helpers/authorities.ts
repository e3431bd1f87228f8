import {execFileSync, spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {PemPair} from '../../src/certificates/authority.js'
import {certificateFiles} from '../../src/certificates/store.js'
import {ensureConfigDir, withConfigLock} from '../../src/config/files.js'
import {issueServerCertificate} from '../../src/certificates/authority.js'

/**
 * A CA like those homeauth made before it constrained them: EC P-256, CA:true, keyCertSign, key
 * identifiers and no name constraints (so it may vouch for any name). Made by the openssl CLI in `dir`.
 */
export function unconstrainedAuthority(dir: string): PemPair {
  const key = path.join(dir, 'old-ca-key.pem')
  const cert = path.join(dir, 'old-ca.pem')
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key])
  execFileSync('openssl', [
    ...['req', '-x509', '-new', '-key', key, '-sha256', '-days', '3650', '-out', cert],
    ...['-subj', '/CN=homeauth local CA (old)/O=homeauth'],
    ...['-addext', 'basicConstraints=critical,CA:true,pathlen:0'],
    ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'],
  ])
  return {cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8')}
}

/** Stores `authority` and a server certificate from it for localhost in `configDir`, as an earlier homeauth left them. */
export async function storeAuthority(configDir: string, authority: PemPair): Promise<void> {
  await ensureConfigDir(configDir)
  const server = await issueServerCertificate(authority, ['localhost'])
  await withConfigLock(configDir, ({updateFileSet}) => updateFileSet(certificateFiles(authority, server)))
}

/** `openssl verify -x509_strict` of `leaf` against `authority` alone (files written in `dir`): its exit status and what it said. */
export function opensslVerify(
  dir: string,
  authority: PemPair,
  leaf: PemPair,
): {status: number | null; output: string} {
  writeFileSync(path.join(dir, 'ca.pem'), authority.cert)
  writeFileSync(path.join(dir, 'leaf.pem'), leaf.cert)
  const result = spawnSync(
    'openssl',
    ['verify', '-x509_strict', '-CAfile', path.join(dir, 'ca.pem'), path.join(dir, 'leaf.pem')],
    {encoding: 'utf8'},
  )
  return {status: result.status, output: result.stdout + result.stderr}
}
