import {spawnSync} from 'node:child_process'
import {chmodSync, chownSync, existsSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {protectHome, unitText, unitWord, type UnitOptions} from '../../src/daemon/unit.js'
import {runJs} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()

const base: UnitOptions = {
  scope: 'user',
  nodePath: process.execPath,
  runJsPath: runJs,
  configDir: '/srv/homeauth',
  port: 8443,
}
const system = (options: Partial<UnitOptions> = {}): UnitOptions => ({
  ...base,
  scope: 'system',
  account: {user: 'pi', group: 'pi'},
  ...options,
})

/** The unit's settings (comments and section headers left out), key → values in order. */
function settings(text: string): Map<string, string[]> {
  const found = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line)
    if (match) found.set(match[1]!, [...(found.get(match[1]!) ?? []), match[2]!])
  }
  return found
}

describe('unitText', () => {
  it('writes a user unit that runs serve for the config directory, wanted by default.target, with no User=', () => {
    const unit = settings(unitText(base))
    expect(unit.get('ExecStart')).toEqual([`${process.execPath} ${runJs} serve --config-dir /srv/homeauth`])
    expect(unit.get('WantedBy')).toEqual(['default.target'])
    expect(unit.has('User')).toBe(false)
    expect(unit.has('After')).toBe(false)
    expect(unit.has('CapabilityBoundingSet')).toBe(false)
    expect(unit.has('AmbientCapabilities')).toBe(false)
  })

  it('writes a system unit that runs as the account, after the network is up, wanted by multi-user.target', () => {
    const unit = settings(unitText(system()))
    expect(unit.get('User')).toEqual(['pi'])
    expect(unit.get('Group')).toEqual(['pi'])
    expect(unit.get('After')).toEqual(['network-online.target'])
    expect(unit.get('Wants')).toEqual(['network-online.target'])
    expect(unit.get('WantedBy')).toEqual(['multi-user.target'])
  })

  it('restarts on failure with a back-off, but not after a usage or setup error', () => {
    const unit = settings(unitText(system()))
    expect(unit.get('Restart')).toEqual(['on-failure'])
    expect(unit.get('RestartSec')).toEqual(['10'])
    expect(unit.get('StartLimitIntervalSec')).toEqual(['600'])
    expect(unit.get('StartLimitBurst')).toEqual(['10'])
    expect(unit.get('RestartPreventExitStatus')).toEqual(['2 8'])
  })

  it('stops with SIGTERM, reloads with SIGHUP and logs to the journal as homeauth', () => {
    const unit = settings(unitText(base))
    expect(unit.get('KillSignal')).toEqual(['SIGTERM'])
    expect(unit.get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID'])
    expect(unit.get('SyslogIdentifier')).toEqual(['homeauth'])
    expect(unit.has('StandardOutput')).toBe(false)
  })

  it('confines the server to its config directory, with the sandbox settings that Node survives', () => {
    // Outside every home directory, as a system-wide Node and global install are.
    const installed = {nodePath: '/usr/bin/node', runJsPath: '/usr/lib/node_modules/homeauth/bin/run.js'}
    const unit = settings(unitText(system(installed)))
    for (const [key, value] of Object.entries({
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ReadWritePaths: '/srv/homeauth',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX AF_NETLINK',
      RestrictNamespaces: 'yes',
      RestrictRealtime: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
      SystemCallArchitectures: 'native',
      UMask: '0077',
      CapabilityBoundingSet: '',
    })) {
      expect(unit.get(key), key).toEqual([value])
    }
    // test/daemon/sandbox.test.ts shows Node aborting under it.
    expect(unit.has('MemoryDenyWriteExecute')).toBe(false)
  })

  it('gives a system unit on a port below 1024 CAP_NET_BIND_SERVICE and no other capability', () => {
    const unit = settings(unitText(system({port: 443})))
    expect(unit.get('CapabilityBoundingSet')).toEqual(['CAP_NET_BIND_SERVICE'])
    expect(unit.get('AmbientCapabilities')).toEqual(['CAP_NET_BIND_SERVICE'])
    expect(settings(unitText(system({port: 1024}))).get('CapabilityBoundingSet')).toEqual([''])
  })

  it('makes the home directories read-only rather than hidden when the config directory, node or homeauth is in one', () => {
    expect(settings(unitText(base)).get('ProtectHome')).toEqual([
      protectHome(['/srv/homeauth', process.execPath, runJs]),
    ])
    expect(protectHome(['/srv/homeauth', '/usr/bin/node', '/usr/lib/node_modules/homeauth/bin/run.js'])).toBe(
      'yes',
    )
    expect(protectHome(['/home/pi/.config/homeauth', '/usr/bin/node'])).toBe('read-only')
    expect(protectHome(['/srv/homeauth', '/root/.nvm/versions/node/v20/bin/node'])).toBe('read-only')
    expect(protectHome(['/run/user/1000/homeauth'])).toBe('read-only')
    expect(protectHome(['/homestead/homeauth'])).toBe('yes')
    const unit = settings(
      unitText({...base, configDir: '/home/pi/.config/homeauth', nodePath: '/usr/bin/node'}),
    )
    expect(unit.get('ProtectHome')).toEqual(['read-only'])
    expect(unit.get('ReadWritePaths')).toEqual(['/home/pi/.config/homeauth'])
  })

  it('quotes a path with a space and escapes systemd’s specifiers and variables in it', () => {
    expect(unitWord('/srv/homeauth')).toBe('/srv/homeauth')
    expect(unitWord('/srv/my homeauth')).toBe('"/srv/my homeauth"')
    expect(unitWord('/srv/100%/$HOME/"x"\\')).toBe('"/srv/100%%/$$HOME/\\"x\\"\\\\"')
    expect(() => unitWord('/srv/a\nExecStartPre=/bin/sh')).toThrow(/cannot hold/)
    const unit = unitText({...base, configDir: '/srv/50% off'})
    expect(unit).toContain('ExecStart=')
    expect(settings(unit).get('Description')).toEqual(['homeauth HTTPS server (/srv/50%% off)'])
  })
})

/**
 * systemd-analyze verify loads a unit as systemd would and reports, on stderr, every unknown key,
 * bad value and missing executable (its exit code stays 0 for most of them, so stderr is what
 * counts). It needs no running systemd; the user manager's needs only an XDG_RUNTIME_DIR.
 */
const analyze = existsSync('/usr/bin/systemd-analyze') ? '/usr/bin/systemd-analyze' : undefined
const isRoot = process.getuid?.() === 0
const hasRunuser = spawnSync('runuser', ['--help']).status === 0

function verify(unit: string, scope: 'user' | 'system', asNobody = false) {
  const dir = tempDir()
  chmodSync(dir, 0o755)
  const runtime = path.join(dir, 'runtime')
  mkdirSync(runtime, {mode: 0o700})
  const file = path.join(dir, 'homeauth.service')
  writeFileSync(file, unit, {mode: 0o644})
  if (asNobody) chownSync(runtime, 65534, 65534)
  const command = [analyze!, ...(scope === 'user' ? ['--user'] : []), 'verify', file]
  const [program, ...args] = asNobody ? ['runuser', '-u', 'nobody', '--', ...command] : command
  return spawnSync(program!, args, {
    encoding: 'utf8',
    env: {...process.env, XDG_RUNTIME_DIR: runtime, HOME: runtime, SYSTEMD_LOG_COLOR: '0'},
  })
}

describe.skipIf(!analyze)('systemd-analyze verify (systemd 252 here)', () => {
  const units: [string, UnitOptions][] = [
    ['a user unit', base],
    ['a system unit', system({account: {user: 'daemon', group: 'daemon'}})],
    ['a system unit on port 443', system({port: 443, account: {user: 'daemon', group: 'daemon'}})],
    [
      'a unit for a config directory under /home with a space in it',
      {...base, configDir: '/home/pi/my homeauth'},
    ],
  ]

  it.each(units)('accepts %s without a single warning', (_, options) => {
    const result = verify(unitText(options), options.scope)
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
  })

  it('reports an unknown key, a bad value and a missing program (so a silent verify means something)', () => {
    const good = unitText(base)
    const bad = good
      .replace('RestartSec=10', 'RestartSec=10\nRestartSteps=3')
      .replace('ProtectSystem=strict', 'ProtectSystem=sometimes')
      .replace(process.execPath, '/nonexistent/node')
    const result = verify(bad, 'user')
    expect(result.stderr).toContain("Unknown key 'RestartSteps'")
    expect(result.stderr).toMatch(/protect system value.*sometimes/)
    expect(result.stderr).toContain('/nonexistent/node')
  })

  it.runIf(isRoot && hasRunuser)('works the same for an unprivileged user', () => {
    for (const [, options] of units.slice(0, 2)) {
      const result = verify(unitText(options), options.scope, true)
      expect(result.stderr).toBe('')
      expect(result.status).toBe(0)
    }
  })
})
