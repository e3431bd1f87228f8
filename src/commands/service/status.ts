import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {runSystemctl, serviceState, type ServiceState} from '../../daemon/service.js'
import {ExitCode} from '../../errors.js'
import {printServiceState} from '../../ui/service.js'

export default class ServiceStatus extends BaseCommand<typeof ServiceStatus> {
  static summary = 'Say whether the systemd unit exists, is enabled and is active.'
  static description =
    'Asks systemctl is-enabled and is-active, and says so when systemd is not installed or not running. Exit code 0 when the unit is active, 3 otherwise.'

  static enableJsonFlag = true
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --system --json',
  ]

  static flags = {
    system: Flags.boolean({description: 'Ask about the system unit instead of the user unit.'}),
  }

  public async run(): Promise<ServiceState> {
    const state = await serviceState(this.flags.system ? 'system' : 'user', process.env, runSystemctl)
    if (!this.jsonEnabled()) printServiceState(this.output, state)
    if (state.active !== 'active') process.exitCode = ExitCode.notRunning
    return state
  }
}
