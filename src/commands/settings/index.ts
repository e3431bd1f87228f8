import {BaseCommand} from '../../cli/base-command.js'
import {showSettings, type SettingsReport} from '../../setup/settings.js'
import {printSettings} from '../../ui/settings.js'

export type SettingsJson = Omit<SettingsReport, 'running'>

export default class Settings extends BaseCommand<typeof Settings> {
  static summary = 'Show the settings serve runs with: stored, else their defaults.'
  static description = `The settings are kept in config.json's "serve" section: init stores the port and host names, settings set the others. serve uses them (a unit written by service install too); a flag given to serve wins for that run only.`
  static enableJsonFlag = true
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --config-dir /srv/homeauth',
  ]

  public async run(): Promise<SettingsJson> {
    const result = await showSettings(this.configDir)
    if (!this.jsonEnabled()) printSettings(this.output, result)
    const {running: _running, ...json} = result
    return json
  }
}
