import {BaseCommand} from '../../cli/base-command.js'
import {listUsers, type UserSummary} from '../../setup/users.js'
import {printUserList} from '../../ui/users.js'

export interface UserListJson {
  users: UserSummary[]
}

export default class UserList extends BaseCommand<typeof UserList> {
  static summary = 'List the users and when each password was last set.'
  static description =
    'Names in the order they were added (the first one made by init), each with the time its password was last set (ISO 8601, UTC; unknown for a password set before homeauth recorded it). Never shows a hash.'

  static enableJsonFlag = true

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --config-dir /srv/homeauth',
  ]

  public async run(): Promise<UserListJson> {
    const users = await listUsers(this.configDir)
    if (!this.jsonEnabled()) printUserList(this.output, users)
    return {users}
  }
}
