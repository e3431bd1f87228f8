import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {requireConfig} from '../../config/config.js'
import {allowShortPasswordFlag} from '../../cli/flags.js'
import {addUser, checkNewUserName, checkUserName} from '../../setup/users.js'
import {printUserAdded} from '../../ui/users.js'

export default class UserAdd extends BaseCommand<typeof UserAdd> {
  static summary = 'Add a person who may sign in, with a password of their own.'
  static description = `Stores the new user's password as a scrypt hash in config.json; the other users are not touched.
The password is asked twice at a terminal (masked), or read from --password-stdin or HOMEAUTH_PASSWORD.
A running server that checks the stored hashes is told to reload them at once.`

  static examples = [
    '<%= config.bin %> <%= command.id %> Bev',
    'printf %s "$PASSWORD" | <%= config.bin %> <%= command.id %> Bev --password-stdin',
    'HOMEAUTH_PASSWORD="$PASSWORD" <%= config.bin %> <%= command.id %> Richard --config-dir /srv/homeauth',
  ]

  static args = {
    name: Args.string({description: 'The user name (no control characters, no ":").', required: true}),
  }

  static flags = {
    'password-stdin': Flags.boolean({description: 'Read the password from the first line of stdin.'}),
    'allow-short-password': allowShortPasswordFlag,
  }

  public async run(): Promise<void> {
    const {args} = await this.parse(UserAdd)
    const {flags} = this
    const name = checkUserName(args.name)
    // Checked before the password is asked for, so nobody types one for nothing; checked again under the lock.
    checkNewUserName(await requireConfig(this.configDir), name)
    const password = await this.newPassword(flags, name, flags['allow-short-password'])
    printUserAdded(this.output, await addUser(this.configDir, {name, password}))
  }
}
