import {BaseCommand} from '../../cli/base-command.js'
import {listDevices, type DeviceSummary} from '../../setup/devices.js'
import {printDeviceList} from '../../ui/devices.js'

export interface DeviceListJson {
  devices: DeviceSummary[]
}

export default class DeviceList extends BaseCommand<typeof DeviceList> {
  static summary = 'List the devices, their users, and when and from where each last signed in.'
  static description =
    'Devices in the order they were added, each with its user, when it was added and its last sign-in (time and address, as the running server records them at most once a minute and when it stops). Never shows a password or hash.'

  static enableJsonFlag = true

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --config-dir /srv/homeauth',
  ]

  public async run(): Promise<DeviceListJson> {
    const devices = await listDevices(this.configDir)
    if (!this.jsonEnabled()) printDeviceList(this.output, devices)
    return {devices}
  }
}
