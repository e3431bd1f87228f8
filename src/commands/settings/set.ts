import {BaseCommand} from '../../cli/base-command.js'
import {serveSettingFlags} from '../../cli/flags.js'
import {givenSettings} from '../../config/serve-settings.js'
import {setSettings} from '../../setup/settings.js'
import {printSettingsChanged} from '../../ui/settings.js'
import type {SettingsJson} from './index.js'

export default class SettingsSet extends BaseCommand<typeof SettingsSet> {
  static summary = 'Store settings for serve: the same flags, checked the same way.'
  static description = `Each flag is one of serve's and is stored in config.json's "serve" section (under the lock); a repeatable one replaces the stored list. Paths are stored absolute. A running server keeps the settings it started with: restart it to use the new ones (the command to do so is printed).`
  static enableJsonFlag = true
  static examples = [
    '<%= config.bin %> <%= command.id %> --auth-listen 127.0.0.1:9091 --trust-proxy 127.0.0.1',
    '<%= config.bin %> <%= command.id %> --port 9443 --max-failures 10',
    '<%= config.bin %> <%= command.id %> --cert /etc/ssl/home.pem --key /etc/ssl/private/home-key.pem',
  ]

  static flags = serveSettingFlags

  public async run(): Promise<SettingsJson> {
    const result = await setSettings(this.configDir, givenSettings(this.flags))
    if (!this.jsonEnabled()) printSettingsChanged(this.output, result)
    const {running: _running, ...json} = result
    return json
  }
}
