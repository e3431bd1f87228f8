import type {ServicePlan, ServiceState, UninstallResult} from '../daemon/service.js'
import {homeauthCommand, shellQuoted} from '../invocation.js'
import {printWarning} from './messages.js'
import type {Output} from './output.js'

const command = (args: string[]) => ['systemctl', ...args].join(' ')

/** After writing (or finding) the unit: where it is, and the commands that enable and start it. */
export function printInstalled(output: Output, plan: ServicePlan, written: boolean, started: boolean): void {
  const {color} = output.out
  const as = plan.account ? ` (runs as ${plan.account.user})` : ''
  output.out.line(
    written
      ? color.bold.green(`Wrote ${plan.unitFile}${as}`)
      : `${plan.unitFile} is already this unit; left unchanged${as}.`,
  )
  if (started) {
    output.out.line(color.bold.green('homeauth.service is enabled and started.'))
  } else {
    output.err.line(
      [
        'Enable and start it (or run install again with --now):',
        ...plan.commands.map((args) => `  ${command(args)}`),
      ].join('\n'),
    )
  }
  if (plan.lingerUser !== undefined) {
    output.err.line(
      `A user unit runs while you are logged in; to run it from boot without a login: loginctl enable-linger ${shellQuoted(plan.lingerUser)}`,
    )
  }
  const scope = plan.scope === 'user' ? ' --user' : ''
  output.err.line(
    `Check it with: ${homeauthCommand(`service status${plan.scope === 'system' ? ' --system' : ''}`)}; its log: journalctl${scope} -u homeauth`,
  )
}

export function printUninstalled(output: Output, result: UninstallResult): void {
  if (!result.removed) return output.out.line(`No unit at ${result.unitFile}; nothing to remove.`)
  if (!result.managerAbsent) return output.out.line(`Stopped, disabled and removed ${result.unitFile}.`)
  printWarning(output, `systemd did not answer (${result.managerAbsent}); nothing was running under it.`)
  output.out.line(`Removed ${result.unitFile}; there was nothing to stop or disable.`)
}

export function printServiceState(output: Output, state: ServiceState): void {
  const {color} = output.out
  const lines = [
    `unit file: ${state.installed ? state.unitFile : `${state.unitFile} (not installed)`}`,
    `enabled:   ${state.enabled ?? 'unknown'}`,
    `active:    ${state.active === 'active' ? color.green('active') : (state.active ?? 'unknown')}`,
  ]
  output.out.line(lines.join('\n'))
  if (state.systemdProblem) printWarning(output, state.systemdProblem)
}
