import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {usageError} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import type {UnlockReport} from '../web/control.js'
import {parseClientTarget} from '../web/throttle.js'
import {printUnlocked} from '../ui/daemon.js'

export default class Unlock extends BaseCommand<typeof Unlock> {
  static summary = 'Let a client locked out for failed logins in again at once.'
  static description = `Tells the running server (over its control socket in the config directory, which only its owner can use) to lift the lockout of ADDRESS and forget its failures.
ADDRESS is an IPv4 or IPv6 address (an IPv6 address beyond the LAN counts as its /64, as the server counts failures), or a /64 or LAN prefix as status --clients shows it.
Exit code 0 whether or not it was locked out (the output says which), 3 when no server runs.`

  static enableJsonFlag = true
  static examples = [
    '<%= config.bin %> <%= command.id %> 192.168.1.23',
    '<%= config.bin %> <%= command.id %> 2001:db8:1:2::/64',
    '<%= config.bin %> <%= command.id %> 192.168.1.23 --json',
    '<%= config.bin %> <%= command.id %> 192.168.1.23 --config-dir /srv/homeauth',
  ]

  static args = {
    address: Args.string({
      description: 'The client to let in: an address, or a prefix as status --clients shows it.',
      required: true,
    }),
  }

  public async run(): Promise<UnlockReport> {
    const {args} = await this.parse(Unlock)
    const client = parseClientTarget(args.address)
    if (client === undefined) {
      throw usageError(`${JSON.stringify(args.address)} is not an IPv4 or IPv6 address or an IPv6 prefix.`, [
        `See who is locked out with: ${homeauthCommand('status --clients')}`,
      ])
    }
    const {unlockClient} = await import('../daemon/control.js')
    const report = await unlockClient(this.configDir, client)
    if (!this.jsonEnabled()) printUnlocked(this.output, report)
    return report
  }
}
