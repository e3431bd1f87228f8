import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {allowShortPasswordFlag, credentialFlags} from '../flags.js'
import {requireConfig} from '../config/config.js'
import {checkCredential, givenNewPassword, noTerminalError} from '../credentials/sources.js'
import {changeCredentials} from '../setup/passwd.js'
import {askNewPassword, canPrompt, prompts} from '../ui/prompts.js'
import {printVisibleSecretWarnings} from '../ui/messages.js'
import {printPasswordChanged} from '../ui/setup-summary.js'

export default class Passwd extends BaseCommand<typeof Passwd> {
  static summary = 'Change the stored password (and optionally the user name).'
  static description = `Stores a new scrypt hash in config.json; certificates are not touched.
A running server that checks the stored hash is told to reload it at once; one started with credentials of its own (-u/-p, --password-stdin, the environment or a prompt) keeps them until it is restarted.`

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    'printf %s "$NEW_PASSWORD" | <%= config.bin %> <%= command.id %> --password-stdin',
    '<%= config.bin %> <%= command.id %> --username Bev',
  ]

  static flags = {
    ...credentialFlags(''),
    username: Flags.string({char: 'u', description: 'New user name (default: keep the current one).'}),
    'allow-short-password': allowShortPasswordFlag,
  }

  public async run(): Promise<void> {
    const {flags} = this
    printVisibleSecretWarnings(this.output, flags)
    const config = await requireConfig(this.configDir)
    const allowShort = flags['allow-short-password']
    let password = await givenNewPassword(this.credentialInputs(flags), allowShort)
    if (password === undefined) {
      if (!canPrompt()) throw noTerminalError('password', 'Pass --password-stdin or set HOMEAUTH_PASSWORD.')
      password = await askNewPassword(prompts, flags.username ?? config.username, {allowShort})
    }
    const username = flags.username === undefined ? undefined : checkCredential('user name', flags.username)
    printPasswordChanged(this.output, await changeCredentials(this.configDir, {username, password}))
  }
}
