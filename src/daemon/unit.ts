/** The name of the unit `homeauth service install` writes, for the user's or the system's manager. */
export const unitName = 'homeauth.service'

export type ServiceScope = 'user' | 'system'

/** `systemctl` (with --user for a user unit) and `args`, as the user would type it. */
export function systemctlArgs(scope: ServiceScope, ...args: string[]): string[] {
  return scope === 'user' ? ['--user', ...args] : args
}

/** Ports below this need CAP_NET_BIND_SERVICE (Linux's default `ip_unprivileged_port_start`). */
export const firstUnprivilegedPort = 1024

export interface UnitOptions {
  scope: ServiceScope
  /** Absolute path of the node binary that runs homeauth. */
  nodePath: string
  /** Absolute, real path of homeauth's bin/run.js. */
  runJsPath: string
  /** Absolute, real path of the config directory: serve's --config-dir, and the one writable path. */
  configDir: string
  /** The port config.json gives serve (its stored setting, else the default). */
  port: number
  /** For a system unit: the account it runs as. */
  account?: {user: string; group: string}
}

/** The directories ProtectHome= hides (`yes`) or makes read-only. */
const homeDirectories = ['/home', '/root', '/run/user']

function isUnder(file: string, dir: string): boolean {
  return file === dir || file.startsWith(`${dir}/`)
}

/**
 * ProtectHome=: `yes` hides the home directories altogether, which is possible only when neither
 * the config directory nor node nor homeauth lives in one; otherwise `read-only`, with the config
 * directory writable through ReadWritePaths=.
 */
export function protectHome(paths: string[]): 'yes' | 'read-only' {
  return paths.some((file) => homeDirectories.some((dir) => isUnder(file, dir))) ? 'read-only' : 'yes'
}

/**
 * One word of a unit file setting as systemd splits it (systemd.service(5), "Command lines"):
 * bare when it holds no character systemd treats specially, else double-quoted with `\` and `"`
 * escaped; `%` is a specifier and `$` a variable everywhere, so both are doubled.
 */
export function unitWord(word: string): string {
  if (/[\p{Cc}]/u.test(word)) throw new Error(`a unit file cannot hold ${JSON.stringify(word)}`)
  const escaped = word.replaceAll('%', '%%').replaceAll('$', '$$$$')
  if (/^[\w/.:@+=,-]+$/.test(escaped) && escaped !== '') return escaped
  return `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/** The command line that runs serve, as the unit's ExecStart= holds it. */
export function serveCommand(options: Pick<UnitOptions, 'nodePath' | 'runJsPath' | 'configDir'>): string[] {
  return [options.nodePath, options.runJsPath, 'serve', '--config-dir', options.configDir]
}

/** The text of homeauth.service for these options (a pure function: nothing is read or written). */
export function unitText(options: UnitOptions): string {
  const {scope, configDir, port, account} = options
  if (scope === 'system' && !account) throw new Error('a system unit needs an account')
  const lowPort = port > 0 && port < firstUnprivilegedPort
  const lines = [
    `# Written by homeauth service install for ${configDir}.`,
    '# Change it with: homeauth service install --force (this file is replaced, not merged).',
    '[Unit]',
    `Description=homeauth HTTPS server (${configDir.replaceAll('%', '%%')})`,
    // A user manager has no network-online.target; a system unit waits for it, so a host
    // address from config.json can be bound.
    ...(scope === 'system' ? ['Wants=network-online.target', 'After=network-online.target'] : []),
    '# Back-off: a crash loop (a start every RestartSec) gives up after 10 starts in 10 minutes.',
    'StartLimitIntervalSec=600',
    'StartLimitBurst=10',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${serveCommand(options).map(unitWord).join(' ')}`,
    '# SIGHUP: serve reads the stored credentials and the certificate again (as passwd and cert renew do).',
    'ExecReload=/bin/kill -HUP $MAINPID',
    '# SIGTERM: serve stops accepting, finishes the requests in flight and exits 0.',
    'KillSignal=SIGTERM',
    'Restart=on-failure',
    'RestartSec=10',
    '# Exit 2 (usage) and 8 (config, key or certificate invalid or too open): a restart cannot fix them.',
    'RestartPreventExitStatus=2 8',
    `# The log is the journal (journalctl${scope === 'user' ? ' --user' : ''} -u homeauth), under the name homeauth, not node.`,
    'SyslogIdentifier=homeauth',
    ...(account ? [`User=${unitWord(account.user)}`, `Group=${unitWord(account.group)}`] : []),
    '# Files serve creates are its own alone.',
    'UMask=0077',
    '',
    '# Sandbox: serve needs its config directory, its port and nothing else.',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    `ReadWritePaths=${unitWord(configDir)}`,
    `ProtectHome=${protectHome([configDir, options.nodePath, options.runJsPath])}`,
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    '# AF_NETLINK: Node lists the LAN addresses (URLs, certificate names) through a netlink socket.',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    '# No MemoryDenyWriteExecute=: V8 compiles JavaScript into memory it makes executable; Node aborts under it.',
    ...capabilityLines(scope, lowPort),
    '',
    '[Install]',
    `WantedBy=${scope === 'system' ? 'multi-user.target' : 'default.target'}`,
  ]
  return `${lines.join('\n')}\n`
}

function capabilityLines(scope: ServiceScope, lowPort: boolean): string[] {
  if (scope === 'user') return ['# A user service holds no capabilities, and NoNewPrivileges= keeps it so.']
  if (!lowPort) return ['CapabilityBoundingSet=']
  return [
    '# The port is below 1024: binding it is the one privilege serve gets.',
    'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
    'AmbientCapabilities=CAP_NET_BIND_SERVICE',
  ]
}
