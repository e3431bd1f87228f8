// The bench's temporary directory and the homeauth configuration every server shares: made by a
// non-interactive `homeauth init`, so all servers use the same EC P-256 certificate from its CA, and a
// second user (`user add`) for the floods' first login.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {childEnv} from './children.js'

export const homeauthBin = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
export const username = 'bench'
export const password = 'bench-password'
export const message = 'Hello from homeauth: only you can read this.'
/** A second user, whose first login no one has made before: the floods' first, uncached login. */
export const newcomer = {username: 'newcomer', password: 'newcomer-password'}

/** Makes the temporary directory, runs `homeauth init` and `user add` in it; `remove()` deletes it all. */
export function prepare() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'homeauth-bench-'))
  const configDir = path.join(dir, 'config')
  const homeauth = (args, input, env = {}) => {
    const run = spawnSync(process.execPath, [homeauthBin, ...args, '--config-dir', configDir], {
      input: `${input}\n`,
      env: childEnv(env),
      encoding: 'utf8',
    })
    if (run.status === 0) return
    rmSync(dir, {recursive: true, force: true})
    throw new Error(`homeauth ${args[0]} failed (${run.status}):\n${run.stdout}${run.stderr}`)
  }
  homeauth(['init', '-u', username, '--password-stdin', '--yes'], password, {HOMEAUTH_SECRET: message})
  homeauth(['user', 'add', newcomer.username, '--password-stdin'], newcomer.password)
  const file = (name) => path.join(configDir, name)
  return {
    dir,
    configDir,
    caFile: file('ca.pem'),
    certFile: file('server.pem'),
    keyFile: file('server-key.pem'),
    remove: () => rmSync(dir, {recursive: true, force: true}),
  }
}
