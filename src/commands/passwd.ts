import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {allowShortPasswordFlag, credentialFlags} from '../cli/flags.js'
import {requireConfig} from '../config/config.js'
import {passwdUser, whichUserError} from '../setup/passwd.js'
import {checkUserName, findUser, setPassword, userNames} from '../setup/users.js'
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
    let name = passwdUser(config, flags.username)
    if (name === undefined) {
      const prompts = this.promptsOr(whichUserError(config))
      const names = userNames(config)
      const known = (value: string) =>
        findUser(config, value) !== undefined || `Not a user here; one of: ${names}.`
      name = checkUserName(await prompts.input(`Whose password? (${names})`, undefined, known))
    }
    const password = await this.newPassword(flags, name, flags['allow-short-password'])
    printPasswordChanged(this.output, await setPassword(this.configDir, {name, password}))
  }
}
