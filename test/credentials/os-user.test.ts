import {spawnSync} from 'node:child_process'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {describe, expect, it} from 'vitest'

import {osUsername} from '../../src/credentials/os-user.js'
import {readableBuild} from '../helpers/readable-build.js'

/** A uid the system has no passwd entry for, as a container may run homeauth under. */
const unknownUid = '54321'
const canRunAsUnknownUid =
  process.getuid?.() === 0 && spawnSync('getent', ['passwd', unknownUid]).status === 2
/** Where that uid can read the built CLI (see `readableBuild`). */
const readableDir = canRunAsUnknownUid ? readableBuild() : undefined

/** Prints the user name that serve's credential prompt offers (init's prompt and the CA's name take the same). */
const script = `
const {resolveCredentials} = await import(process.argv[1])
let offered
const prompts = {
  input: async (message, defaultValue) => (offered = defaultValue),
  password: async () => 'secret',
}
await resolveCredentials({env: {}, stdin: process.stdin, prompts})
console.log(offered)
`

describe('osUsername', () => {
  it('is the name of the user running homeauth', () => {
    expect(osUsername()).toBe(spawnSync('id', ['-un'], {encoding: 'utf8'}).stdout.trim())
  })

  it.skipIf(!canRunAsUnknownUid)(
    'is "homeauth" for a uid without a passwd entry, and the serve prompt offers it (needs root)',
    () => {
      const sources = pathToFileURL(path.join(readableDir!, 'dist', 'credentials', 'sources.js')).href
      const result = spawnSync(
        'setpriv',
        [
          `--reuid=${unknownUid}`,
          `--regid=${unknownUid}`,
          '--clear-groups',
          process.execPath,
          '--input-type=module',
          '-e',
          script,
          sources,
        ],
        {encoding: 'utf8', cwd: '/'},
      )
      expect(result.stderr).toBe('')
      expect(result.stdout).toBe('homeauth\n')
    },
  )
})
