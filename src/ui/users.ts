import type {UserChangeResult, UserSummary} from '../setup/users.js'
import {reloadNote} from './daemon.js'
import {escapeControl} from './escape.js'
import type {Output} from './output.js'
import {keptCredentialsNote} from './setup-summary.js'

/** What became of the running server after a change to the users or devices. */
export function serverNote(result: UserChangeResult): string {
  return keptCredentialsNote(result.signalledServer) ?? reloadNote(result.signalledServer?.pid)
}

export function printUserAdded(output: Output, result: UserChangeResult): void {
  output.out.line(`User ${result.name} added (password stored as a scrypt hash only).`)
  output.err.line(serverNote(result))
}

export function printUserRemoved(output: Output, result: UserChangeResult): void {
  output.out.line(`User ${result.name} removed; they can no longer sign in.`)
  output.err.line(serverNote(result))
}

/** One line per user: the name, and when the password was last set (the date alone, in UTC). */
export function printUserList(output: Output, users: UserSummary[]): void {
  const width = Math.max(4, ...users.map((user) => user.name.length))
  const lines = [`${'USER'.padEnd(width)}  PASSWORD SET`]
  for (const user of users) {
    const setAt = user.passwordSetAt === null ? 'unknown (before homeauth stored it)' : user.passwordSetAt
    lines.push(`${escapeControl(user.name).padEnd(width)}  ${setAt}`)
  }
  output.out.line(lines.join('\n'))
}
