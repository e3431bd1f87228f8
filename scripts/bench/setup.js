// The bench's temporary directory and the homeauth configuration every server shares: made by a
// non-interactive `homeauth init`, so all servers use the same EC P-256 certificate from its CA.
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

/** Makes the temporary directory and runs `homeauth init` in it; `remove()` deletes it all. */
export function prepare() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'homeauth-bench-'))
  const configDir = path.join(dir, 'config')
  const init = spawnSync(
    process.execPath,
    [homeauthBin, 'init', '--config-dir', configDir, '-u', username, '--password-stdin', '--yes'],
    {input: `${password}\n`, env: childEnv({HOMEAUTH_SECRET: message}), encoding: 'utf8'},
  )
  if (init.status !== 0) {
    rmSync(dir, {recursive: true, force: true})
    throw new Error(`homeauth init failed (${init.status}):\n${init.stdout}${init.stderr}`)
  }
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
