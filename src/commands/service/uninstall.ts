import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {runSystemctl, uninstallService} from '../../daemon/service.js'
import {printUninstalled} from '../../ui/service.js'

export default class ServiceUninstall extends BaseCommand<typeof ServiceUninstall> {
  static summary = 'Stop, disable and remove the systemd unit that service install wrote.'
  static description =
    'Runs systemctl stop and disable, removes the unit file and has systemd read its units again. Where no systemd runs, nothing can be running under it: the file is removed all the same. With no unit it says so and exits 0. The config directory is left as it is.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    'sudo <%= config.bin %> <%= command.id %> --system',
    '<%= config.bin %> <%= command.id %> && sudo <%= config.bin %> service install --system --now',
  ]

  static flags = {
    system: Flags.boolean({
      description: 'Remove the system unit (/etc/systemd/system) instead of the user unit.',
    }),
  }

  public async run(): Promise<void> {
    printUninstalled(
      this.output,
      await uninstallService(this.flags.system ? 'system' : 'user', process.env, runSystemctl),
    )
  }
}
