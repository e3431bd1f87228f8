import type {HomeauthConfig} from '../config/config.js'
import {usageError} from '../errors.js'
import {checkUserName, findUser, notRenamedError, userNames} from './users.js'

/**
 * Whose password `passwd` changes: `--username` when given (it must name a stored user: the flag
 * no longer renames), else the only user; undefined when there are several and none was named.
 */
export function passwdUser(config: HomeauthConfig, given: string | undefined): string | undefined {
  if (given === undefined) return config.users.length === 1 ? config.users[0]!.name : undefined
  const name = checkUserName(given)
  if (findUser(config, name)) return name
  throw notRenamedError(config, name, 'passwd --username picks whose password changes')
}

/** The error for `passwd` without --username when several users are stored and no one can be asked. */
export function whichUserError(config: HomeauthConfig) {
  return usageError(`config.json holds ${config.users.length} users; say whose password to change.`, [
    `Pass --username NAME (one of: ${userNames(config)}).`,
  ])
}
