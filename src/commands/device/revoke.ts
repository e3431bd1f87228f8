import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {revokeDevice} from '../../setup/devices.js'
import {printDeviceRevoked} from '../../ui/devices.js'

export default class DeviceRevoke extends BaseCommand<typeof DeviceRevoke> {
  static summary = "Revoke a device's password: it can no longer sign in."
  static description = `Removes the device and its hash from config.json; the user's own password and their other devices keep working.
A running server that checks the stored hashes is told to reload, and forgets the device's sign-ins at once.`

  static examples = [
    '<%= config.bin %> <%= command.id %> bev-phone',
    '<%= config.bin %> <%= command.id %> home-assistant --config-dir /srv/homeauth',
    '<%= config.bin %> <%= command.id %> old-tablet --config-dir /etc/homeauth',
  ]

  static args = {
    name: Args.string({description: 'The device to revoke.', required: true}),
  }

  public async run(): Promise<void> {
    const {args} = await this.parse(DeviceRevoke)
    printDeviceRevoked(this.output, await revokeDevice(this.configDir, args.name))
  }
}
