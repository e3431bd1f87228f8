import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

import {describe, expect, it} from 'vitest'

import {ExitCode} from '../../src/errors.js'
import {cleanEnv, projectDir, runJs} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

const run = promisify(execFile)

/** Runs `command` in `cwd` and returns its exit code and stderr (trust on an empty config dir fails with a hint). */
async function failure(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const result = await run(command, args, {cwd, env: cleanEnv(env), timeout: 60_000}).then(
    () => ({code: 0, stderr: ''}),
    (error: {code: number; stderr: string}) => error,
  )
  return {code: result.code, stderr: result.stderr}
}

describe('hints name the command the way it was started', () => {
  const tempDir = useTempDir()

  it('says npx homeauth when run through npx', async () => {
    const configDir = tempDir()
    // npx installs the project into its cache the first time, and that install would run `prepare`,
    // rebuilding dist/ (removed first) under the tests that other workers are running.
    const result = await failure('npx', ['homeauth', 'trust', '--config-dir', configDir], projectDir, {
      npm_config_ignore_scripts: 'true',
    })
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(
      `Try: Run: npx homeauth init --config-dir ${configDir} (or npx homeauth serve --config-dir ${configDir}, which makes one).`,
    )
  })

  it('says ./bin/run.js when run as a script from the project directory', async () => {
    const configDir = tempDir()
    const result = await failure(runJs, ['trust', '--config-dir', configDir], projectDir)
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(
      `Try: Run: ./bin/run.js init --config-dir ${configDir} (or ./bin/run.js serve --config-dir ${configDir}, which makes one).`,
    )
  })

  it("says the script's absolute path when run from outside the project", async () => {
    const configDir = tempDir()
    const result = await failure(process.execPath, [runJs, 'trust', '--config-dir', configDir], tempDir())
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(
      `Try: Run: ${runJs} init --config-dir ${configDir} (or ${runJs} serve --config-dir ${configDir}, which makes one).`,
    )
  })
})
