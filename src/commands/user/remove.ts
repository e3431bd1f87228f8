import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {requireConfig} from '../../config/config.js'
import {usageError} from '../../errors.js'
import {findUser, removeUser, unknownUserError} from '../../setup/users.js'
import {printUserRemoved} from '../../ui/users.js'

export default class UserRemove extends BaseCommand<typeof UserRemove> {
  static summary = 'Remove a user: they can no longer sign in.'
  static description = `Removes the user and their password hash from config.json; asks first at a terminal (--yes skips the question).
The last user cannot be removed: add the one who replaces them first.
A running server that checks the stored hashes is told to reload them, and forgets the user's cached sign-in at once.`

  static examples = [
    '<%= config.bin %> <%= command.id %> Bev',
    '<%= config.bin %> <%= command.id %> Bev --yes',
    '<%= config.bin %> <%= command.id %> Richard --yes --config-dir /srv/homeauth',
  ]

  static args = {
    name: Args.string({description: 'The user to remove.', required: true}),
  }

  static flags = {
    yes: Flags.boolean({char: 'y', description: 'Remove without asking.'}),
  }

  public async run(): Promise<void> {
    const {args} = await this.parse(UserRemove)
    const config = await requireConfig(this.configDir)
    const name = args.name.normalize('NFC')
    if (!findUser(config, name)) throw unknownUserError(config, name)
    if (!this.flags.yes) {
      const prompts = this.promptsOr(
        usageError(`Not removing ${name} without asking.`, ['Pass --yes to remove without a question.']),
      )
      if (!(await prompts.confirm(`Remove user ${name}? They can no longer sign in.`))) {
        this.logToStderr('Nothing changed.')
        return
      }
    }
    printUserRemoved(this.output, await removeUser(this.configDir, name))
  }
}
