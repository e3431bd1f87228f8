import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {allowShortPasswordFlag, credentialFlags} from '../flags.js'
import {requireConfig} from '../config/config.js'
import {givenNewPassword, noTerminalError} from '../credentials/sources.js'
import {passwdUser, whichUserError} from '../setup/passwd.js'
import {checkUserName, findUser, setPassword} from '../setup/users.js'
import {askNewPassword, canPrompt, prompts} from '../ui/prompts.js'
import {printVisibleSecretWarnings} from '../ui/messages.js'
import {printPasswordChanged} from '../ui/setup-summary.js'

export default class Passwd extends BaseCommand<typeof Passwd> {
  static summary = "Change a user's stored password."
  static description = `Stores a new scrypt hash for one user in config.json; the other users and the certificates are not touched.
--username names whose password changes (default: the only user; with several, it is asked at a terminal). It does not rename: add the new name with "user add", then "user remove" the old one.
A running server that checks the stored hashes is told to reload them at once; one started with credentials of its own (-u/-p, --password-stdin, the environment or a prompt) keeps them until it is restarted.`

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    'printf %s "$NEW_PASSWORD" | <%= config.bin %> <%= command.id %> --password-stdin',
    '<%= config.bin %> <%= command.id %> --username Bev',
  ]

  static flags = {
    ...credentialFlags(''),
    username: Flags.string({
      char: 'u',
      description: 'Whose password to change (default: the only user).',
    }),
    'allow-short-password': allowShortPasswordFlag,
  }

  public async run(): Promise<void> {
    const {flags} = this
    printVisibleSecretWarnings(this.output, flags)
    const config = await requireConfig(this.configDir)
    const allowShort = flags['allow-short-password']
    let name = passwdUser(config, flags.username)
    if (name === undefined) {
      if (!canPrompt()) throw whichUserError(config)
      const names = config.users.map((user) => user.name).join(', ')
      const known = (value: string) =>
        findUser(config, value) !== undefined || `Not a user here; one of: ${names}.`
      name = checkUserName(await prompts.input(`Whose password? (${names})`, undefined, known))
    }
    let password = await givenNewPassword(this.credentialInputs(flags), allowShort)
    if (password === undefined) {
      if (!canPrompt()) throw noTerminalError('password', 'Pass --password-stdin or set HOMEAUTH_PASSWORD.')
      password = await askNewPassword(prompts, name, {allowShort})
    }
    printPasswordChanged(this.output, await setPassword(this.configDir, {name, password}))
  }
}
