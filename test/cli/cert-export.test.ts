import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {exportAuthority} from '../../src/certificates/export.js'
import {loadOrCreateServerTls} from '../../src/certificates/store.js'
import {ExitCode} from '../../src/errors.js'
import {cleanEnv, runCli, runJs} from '../helpers/cli.js'
import {modeOf} from '../helpers/files.js'
import {useTempDir} from '../helpers/temp.js'
import {runInTerminal} from '../helpers/terminal.js'

const tempDir = useTempDir()

/** A config directory with a CA in it, and that CA's PEM and fingerprint. */
async function withAuthority() {
  const configDir = tempDir()
  const {authority} = await loadOrCreateServerTls(configDir)
  return {configDir, pem: authority!.cert, fingerprint: authority!.fingerprint}
}

const exportArgs = (configDir: string, ...extra: string[]) => [
  'cert',
  'export',
  '--config-dir',
  configDir,
  ...extra,
]

describe('homeauth cert export', () => {
  it('writes PEM, DER and the profile to --out with mode 0644, the bytes the server offers', async () => {
    const {configDir, pem, fingerprint} = await withAuthority()
    const out = tempDir()
    for (const format of ['pem', 'der', 'mobileconfig'] as const) {
      const file = path.join(out, `exported.${format}`)
      const result = await runCli(exportArgs(configDir, '--format', format, '--out', file))
      expect(result.code, result.stderr).toBe(0)
      expect(readFileSync(file).equals(exportAuthority(pem, format)), format).toBe(true)
      expect(modeOf(file)).toBe(0o644)
      expect(result.stdout).toContain(file)
      expect(result.stdout).toContain(`CA fingerprint: ${fingerprint}`)
    }
  })

  it('writes PEM by default, and to stdout when stdout is a pipe', async () => {
    const {configDir, pem} = await withAuthority()
    for (const format of ['pem', 'der', 'mobileconfig'] as const) {
      const args = format === 'pem' ? exportArgs(configDir) : exportArgs(configDir, '--format', format)
      const result = spawnSync(process.execPath, [runJs, ...args], {env: cleanEnv(), timeout: 20_000})
      expect(result.status, result.stderr.toString()).toBe(0)
      expect(result.stdout.equals(exportAuthority(pem, format)), format).toBe(true)
    }
  })

  it('exits 2 at a terminal without --out, naming --out, and writes nothing there', async () => {
    const {configDir} = await withAuthority()
    const session = await runInTerminal(exportArgs(configDir, '--format', 'der'), [])
    expect(session.code).toBe(ExitCode.usage)
    expect(session.output).toContain('--out ca.crt')
    expect(session.output).not.toContain('BEGIN CERTIFICATE')
  })

  it('exits 8 when there is no CA yet', async () => {
    const configDir = tempDir()
    const file = path.join(tempDir(), 'ca.pem')
    const result = await runCli(exportArgs(configDir, '--out', file))
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(`There is no CA in ${configDir} yet.`)
  })

  it('keeps an existing file unless --force, then replaces it', async () => {
    const {configDir, pem} = await withAuthority()
    const file = path.join(tempDir(), 'ca.pem')
    writeFileSync(file, 'mine\n')
    const refused = await runCli(exportArgs(configDir, '--out', file))
    expect(refused.code).toBe(ExitCode.usage)
    expect(refused.stderr).toContain(`${file} already exists.`)
    expect(refused.stderr).toContain('--force')
    expect(readFileSync(file, 'utf8')).toBe('mine\n')
    const forced = await runCli(exportArgs(configDir, '--out', file, '--force'))
    expect(forced.code, forced.stderr).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(pem)
  })

  it('exits 2 when --out is in a directory that does not exist', async () => {
    const {configDir} = await withAuthority()
    const file = path.join(tempDir(), 'missing', 'ca.pem')
    const result = await runCli(exportArgs(configDir, '--out', file))
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toContain(`${file} is in a directory that does not exist.`)
  })
})
