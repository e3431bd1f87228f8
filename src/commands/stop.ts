import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {stopServer} from '../daemon/manage.js'
import {printStopResult} from '../ui/daemon.js'

export default class Stop extends BaseCommand<typeof Stop> {
  static summary = 'Stop the running server gracefully.'
  static description =
    'Sends SIGTERM and waits; after --timeout seconds it sends SIGKILL, with a warning. When nothing runs it says so and exits 0. A server run by systemd is not signalled: stop names the systemctl command to use and exits 2.'
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --timeout 30',
    '<%= config.bin %> <%= command.id %> --config-dir /srv/homeauth',
  ]

  static flags = {
    timeout: Flags.integer({
      description: 'Seconds to wait for a graceful stop before SIGKILL.',
      default: 10,
      min: 1,
    }),
  }

  public async run(): Promise<void> {
    printStopResult(this.output, await stopServer(this.configDir, this.flags.timeout * 1000))
  }
}
