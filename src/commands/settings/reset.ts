import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {usageError} from '../../errors.js'
import {resetSettings} from '../../setup/settings.js'
import {printSettingsChanged} from '../../ui/settings.js'
import type {SettingsJson} from './index.js'

export default class SettingsReset extends BaseCommand<typeof SettingsReset> {
  static summary = 'Remove stored settings, so serve uses their defaults again.'
  static description = `NAME is a flag's name without the dashes (auth-listen, trust-proxy, port, …); cert and key go together. A running server keeps the settings it started with until it is restarted.`
  static enableJsonFlag = true
  static strict = false
  static examples = [
    '<%= config.bin %> <%= command.id %> trust-proxy',
    '<%= config.bin %> <%= command.id %> auth-listen trust-proxy --config-dir /srv/homeauth',
    '<%= config.bin %> <%= command.id %> --all',
  ]

  static args = {
    name: Args.string({description: 'The settings to reset.'}),
  }

  static flags = {
    all: Flags.boolean({description: 'Reset every setting (the port and host names init stored too).'}),
  }

  public async run(): Promise<SettingsJson> {
    const {argv} = await this.parse(SettingsReset)
    const names = argv as string[]
    if (this.flags.all && names.length > 0) throw usageError('Pass either setting names or --all, not both.')
    const result = await resetSettings(this.configDir, this.flags.all ? undefined : names)
    if (!this.jsonEnabled()) printSettingsChanged(this.output, result)
    const {running: _running, ...json} = result
    return json
  }
}
