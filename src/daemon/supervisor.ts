import {readFileSync} from 'node:fs'

import {systemctlArgs, unitName, type ServiceScope} from './unit.js'

/** The service manager a server runs under, recorded in state.json for status, stop and logs. */
export interface Supervisor {
  name: 'systemd'
  scope: ServiceScope
  unit: string
}

function ownCgroup(): string {
  try {
    return readFileSync('/proc/self/cgroup', 'utf8')
  } catch {
    return ''
  }
}

/**
 * systemd, when it started this process as a homeauth unit. systemd sets INVOCATION_ID for every
 * service it runs (systemd.exec(5)), and a shell started by another service passes it on, so the
 * process's cgroup must also name a homeauth unit (`…/user@1000.service/app.slice/homeauth.service`
 * for a user unit) or none at all (a container's cgroup namespace hides it). The manager is the
 * user's when the cgroup is under user@UID.service or MANAGER_PID is set, which only a user manager does.
 */
export function detectSupervisor(env: NodeJS.ProcessEnv, cgroup = ownCgroup()): Supervisor | undefined {
  if (!env.INVOCATION_ID) return undefined
  const cgroupPath = /^(?:0::|\d+:name=systemd:)(\/.*)$/m.exec(cgroup)?.[1] ?? '/'
  const last = cgroupPath.split('/').at(-1) ?? ''
  const isUnit = /\.(service|scope|slice)$/.test(last)
  if (isUnit && !/^homeauth.*\.service$/.test(last)) return undefined
  const scope = cgroupPath.includes('/user@') || env.MANAGER_PID ? 'user' : 'system'
  return {name: 'systemd', scope, unit: isUnit ? last : unitName}
}

/** `systemctl [--user] VERB UNIT`, as the user should type it. */
export function systemctlCommand(supervisor: Supervisor, verb: string): string {
  return ['systemctl', ...systemctlArgs(supervisor.scope, verb, supervisor.unit)].join(' ')
}

/** `journalctl [--user] -u UNIT`, where a server under systemd logs. */
export function journalCommand(supervisor: Supervisor): string {
  return ['journalctl', ...(supervisor.scope === 'user' ? ['--user'] : []), '-u', supervisor.unit].join(' ')
}
