import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {addDevice} from '../../setup/devices.js'
import {printDeviceAdded} from '../../ui/devices.js'

export interface DeviceAddJson {
  name: string
  user: string
  password: string
  createdAt: string
}

export default class DeviceAdd extends BaseCommand<typeof DeviceAdd> {
  static summary = 'Give a device (a phone, an app, a script) a password of its own.'
  static description = `Makes a random password (7 groups of 4 letters and digits, 138 bits) with which the device signs in as its user, beside the user's own password. It is printed once (at a terminal also as a QR code to scan) and stored only as a keyed hash: a lost device is revoked alone with device revoke.
A right device password is never locked out by failed logins from its address. A running server that checks the stored hashes is told to reload at once.`

  static enableJsonFlag = true

  static examples = [
    '<%= config.bin %> <%= command.id %> bev-phone',
    '<%= config.bin %> <%= command.id %> home-assistant --username Bev',
    '<%= config.bin %> <%= command.id %> backup-script --username Richard --json',
  ]

  static args = {
    name: Args.string({
      description: 'The device name: letters, digits, ".", "_" and "-" (at most 64).',
      required: true,
    }),
  }

  static flags = {
    username: Flags.string({description: 'The user the device signs in as (needed when there are several).'}),
  }

  public async run(): Promise<DeviceAddJson> {
    const {args} = await this.parse(DeviceAdd)
    const added = await addDevice(this.configDir, {name: args.name, username: this.flags.username})
    if (!this.jsonEnabled()) await printDeviceAdded(this.output, added)
    const {name, user, password, createdAt} = added
    return {name, user, password, createdAt}
  }
}
