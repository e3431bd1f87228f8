import {execFile} from 'node:child_process'

/** A system account as a system unit names it: User= and Group= (its primary group). */
export interface Account {
  user: string
  uid: number
  group: string
}

/** One `getent DATABASE KEY` entry's fields, or undefined when there is none (getent also asks LDAP, NIS, …). */
function getent(database: 'passwd' | 'group', key: string): Promise<string[] | undefined> {
  return new Promise((resolve, reject) => {
    execFile('getent', [database, key], (error, stdout) => {
      if (!error) return resolve(stdout.split('\n')[0]!.split(':'))
      // getent exits 2 when the key is not found.
      if (error.code === 2) return resolve(undefined)
      reject(error)
    })
  })
}

async function account(key: string): Promise<Account | undefined> {
  const entry = await getent('passwd', key)
  if (!entry) return undefined
  const [user, , uid, gid] = entry
  const group = (await getent('group', gid!))?.[0] ?? gid!
  return {user: user!, uid: Number(uid), group}
}

export function accountByName(name: string): Promise<Account | undefined> {
  // A name that is all digits would be looked up as a uid.
  return /^\d+$/.test(name) ? Promise.resolve(undefined) : account(name)
}

export function accountById(uid: number): Promise<Account | undefined> {
  return account(String(uid))
}
