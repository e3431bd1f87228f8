import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {projectDir} from './helpers/cli.js'
import {useTempDir} from './helpers/temp.js'

const tempDir = useTempDir()
const readme = path.join(projectDir, 'README.md')

/** `scripts/readme-commands.js --check FILE`: exit 0 when FILE's command reference is the help's. */
function checkReadme(file: string) {
  return spawnSync(
    process.execPath,
    [path.join(projectDir, 'scripts', 'readme-commands.js'), '--check', file],
    {
      encoding: 'utf8',
    },
  )
}

describe("README's command reference", () => {
  it('is what `npm run readme` writes from the help of every command', () => {
    const result = checkReadme(readme)
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
  })

  it("shows every command's help", () => {
    const text = readFileSync(readme, 'utf8')
    for (const command of ['init', 'serve', 'fetch-secret', 'cert renew', 'cert export']) {
      expect(text).toContain(`### \`homeauth ${command}\``)
      expect(text).toContain(`USAGE\n  $ homeauth ${command} `)
    }
  })

  it('fails the check when a command or a flag is missing from it', () => {
    const text = readFileSync(readme, 'utf8')
    const withoutStop = path.join(tempDir(), 'README.md')
    writeFileSync(withoutStop, text.replace(/### `homeauth stop`[\s\S]*?```[\s\S]*?```\n\n/, ''))
    const withoutFlag = path.join(tempDir(), 'README.md')
    writeFileSync(withoutFlag, text.replace(/^ +--realm=.*\n(?: {20,}\S.*\n)*/m, ''))

    for (const file of [withoutStop, withoutFlag]) {
      expect(readFileSync(file, 'utf8')).not.toBe(text)
      const result = checkReadme(file)
      expect(result.status).toBe(1)
      expect(result.stderr).toContain('differs from the help. Run: npm run readme')
    }
  })
})
