import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {describe, expect, it} from 'vitest'

import {initConfig, runCli, serveArgs, useCli} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startCli = useCli()

// Preloaded with --import: records every ES module Node loads (its load hook runs on a thread of
// its own, so it appends to the file) and, at exit, every CommonJS module in require's cache.
const recorder = `
import {appendFileSync} from 'node:fs'
import {createRequire, register} from 'node:module'
const file = process.env.LOADED_MODULES_FILE
register('data:text/javascript,' + encodeURIComponent(\`
  import {appendFileSync} from 'node:fs'
  export async function load(url, context, next) {
    appendFileSync(\${JSON.stringify(file)}, url + '\\\\n')
    return next(url, context)
  }\`))
const require = createRequire(import.meta.url)
process.on('exit', () => appendFileSync(file, Object.keys(require.cache).join('\\n') + '\\n'))
`

/** The environment that makes a child homeauth record the modules it loads, and the file they go to. */
function recording(): {env: Record<string, string>; loaded: () => string[]} {
  const dir = tempDir()
  const hook = path.join(dir, 'recorder.mjs')
  const file = path.join(dir, 'loaded.txt')
  writeFileSync(hook, recorder)
  writeFileSync(file, '')
  return {
    env: {NODE_OPTIONS: `--import ${pathToFileURL(hook).href}`, LOADED_MODULES_FILE: file},
    loaded: () => readFileSync(file, 'utf8').split('\n').filter(Boolean),
  }
}

/** Libraries only making or writing a certificate needs (the ASN.1 schema alone costs about 12 MiB). */
const certificateMaking = /node_modules\/(@peculiar\/|selfsigned\/|reflect-metadata\/|asn1js\/|tslib\/)/

describe('what a command loads', () => {
  it('status without a server: no certificate library, HTTPS client or address parser', async () => {
    const {env, loaded} = recording()
    const result = await runCli(['status', '--config-dir', tempDir()], {env})
    expect(result.code, result.stderr).toBe(3)
    const modules = loaded()
    expect(modules).toContainEqual(expect.stringMatching(/dist\/commands\/status\.js$/))
    expect(modules.filter((module) => certificateMaking.test(module))).toEqual([])
    expect(
      modules.filter((module) => /node_modules\/(ipaddr\.js|express)\/|^node:https$/.test(module)),
    ).toEqual([])
  })

  it('serve with its certificates already made: none of the certificate-making libraries', async () => {
    const configDir = await initConfig(tempDir(), {username: 'JeffLynne', password: 'Mr Blue Sky 1977'})
    const {env, loaded} = recording()
    const cli = startCli(serveArgs(configDir), {env})
    await cli.waitForBanner()
    cli.child.kill('SIGTERM')
    await cli.exited
    const modules = loaded()
    expect(modules).toContainEqual(expect.stringMatching(/node_modules\/express\//))
    expect(modules.filter((module) => certificateMaking.test(module))).toEqual([])
  })
})
