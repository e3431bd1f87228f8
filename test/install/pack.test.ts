import {execFile} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {cleanEnv, projectDir} from '../helpers/cli.js'
import {request} from '../helpers/https.js'

const run = promisify(execFile)

/** What a fresh clone holds: everything but git's data, installed packages and build output. */
const notInClone = new Set(['.git', 'node_modules', 'dist', 'oclif.manifest.json', 'coverage'])

/** The tarball's files outside dist/: the bin, the templates, the manifest, and what npm always adds. */
const packedOutsideDist = [
  'README.md',
  'bin/run.js',
  'oclif.manifest.json',
  'package.json',
  'templates/app.js',
  'templates/index.html',
  'templates/trust.html',
]

/** Scripts npm runs when a package is installed; none may ship (npm warns about each). */
const installScripts = ['preinstall', 'install', 'postinstall', 'prepare']

/**
 * The environment of a user's shell: no homeauth variables and none of the npm_* ones that an
 * `npm test` or `npx vitest` above this test would hand down.
 */
function shellEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = cleanEnv(extra)
  for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key]
  return env
}

/**
 * npm's environment is the user's own, NODE_EXTRA_CA_CERTS included: a tarball carries no lockfile,
 * so npm resolves the newest matching versions and goes to the registry whenever a dependency has
 * published since its cache was filled, and where the registry is reached through a proxy only
 * that variable names the proxy's CA. Only homeauth's own runs are kept from it.
 */
const npmEnv = (): NodeJS.ProcessEnv => ({...shellEnv({}), ...pick(process.env, 'NODE_EXTRA_CA_CERTS')})

function pick(env: NodeJS.ProcessEnv, key: string): Record<string, string> {
  const value = env[key]
  return value === undefined ? {} : {[key]: value}
}

/**
 * A registry that cannot be reached fails in seconds with npm's own message, well inside the
 * hook's time, instead of npm's retries running into the hook's timeout.
 */
const npmNetworkOptions = ['--fetch-retries=1', '--fetch-retry-mintimeout=1000', '--fetch-timeout=30000']
const npmDeadline = 150_000

describe('npm pack, then npm install -g of the tarball', () => {
  let root: string
  let clone: string
  let tarball: string
  let prefix: string
  let installOutput: string
  let installSeconds: number
  let userEnv: NodeJS.ProcessEnv
  let home: string
  const configDir = () => path.join(home, '.config', 'homeauth')

  /** Runs the installed `homeauth ARGS` by its name on PATH, from a directory outside the project. */
  const homeauth = (args: string[], input?: string) =>
    new Promise<{code: number; stdout: string; stderr: string}>((resolve) => {
      const child = execFile(
        'homeauth',
        args,
        {cwd: home, env: userEnv, timeout: 30_000},
        (error, stdout, stderr) =>
          resolve({
            code: error ? Number(error.code ?? 1) : 0,
            stdout: String(stdout),
            stderr: String(stderr),
          }),
      )
      child.stdin?.end(input ?? '')
    })

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'homeauth-pack-'))
    // Packed from a copy, so its build (prepack) never removes the dist/ other tests are running.
    clone = path.join(root, 'clone')
    cpSync(projectDir, clone, {
      recursive: true,
      filter: (source) => !notInClone.has(path.basename(source)) && !source.endsWith('.tgz'),
    })
    symlinkSync(path.join(projectDir, 'node_modules'), path.join(clone, 'node_modules'))
    const out = path.join(root, 'out')
    mkdirSync(out)
    const packed = await run('npm', ['pack', '--pack-destination', out], {cwd: clone, env: npmEnv()})
    tarball = path.join(out, packed.stdout.trim().split('\n').at(-1)!)

    prefix = path.join(root, 'prefix')
    const started = Date.now()
    // The registry is reachable here and in CI; --prefer-offline takes what npm's cache already has.
    const installed = await run(
      'npm',
      [
        'install',
        '--global',
        tarball,
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        ...npmNetworkOptions,
      ],
      {cwd: root, env: npmEnv(), timeout: npmDeadline},
    )
    installSeconds = (Date.now() - started) / 1000
    installOutput = installed.stdout + installed.stderr

    home = path.join(root, 'home')
    mkdirSync(home)
    userEnv = shellEnv({
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
    })
  }, 240_000)

  afterAll(async () => {
    if (home && existsSync(configDir())) await homeauth(['stop', '--timeout', '5'])
    if (root) rmSync(root, {recursive: true, force: true})
  }, 30_000)

  it('packs the bin, dist/, the templates and a manifest, and nothing else', async () => {
    const {stdout} = await run('tar', ['-tzf', tarball])
    const files = stdout
      .trim()
      .split('\n')
      .map((file) => file.replace(/^package\//, ''))
    expect(files.filter((file) => !file.startsWith('dist/')).sort()).toEqual(packedOutsideDist)
    expect(files.filter((file) => file.startsWith('dist/') && !file.endsWith('.js'))).toEqual([])
    expect(files).toContain('dist/commands/serve.js')
  })

  it('ships a package.json without install-time scripts, and leaves the clone’s as it was', async () => {
    const {stdout} = await run('tar', ['-xzOf', tarball, 'package/package.json'])
    const scripts = Object.keys(JSON.parse(stdout).scripts)
    expect(scripts.filter((name) => installScripts.includes(name))).toEqual([])
    expect(readFileSync(path.join(clone, 'package.json'), 'utf8')).toBe(
      readFileSync(path.join(projectDir, 'package.json'), 'utf8'),
    )
    expect(existsSync(path.join(clone, 'package.json.before-pack'))).toBe(false)
  })

  it('installs without an install-scripts warning', () => {
    console.log(`npm install -g of the tarball took ${installSeconds.toFixed(1)} s`)
    expect(installOutput).not.toMatch(/install-scripts|allowScripts|prepare/i)
    expect(installOutput).toMatch(/added \d+ packages?/)
  })

  it('prints the version and the help from the manifest, outside the project', async () => {
    const version = await homeauth(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^homeauth\/0\.\d+\.\d+ /)
    const help = await homeauth(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('fetch-secret')
    const manifest = path.join(prefix, 'lib', 'node_modules', 'homeauth', 'oclif.manifest.json')
    const debug = await new Promise<string>((resolve) =>
      execFile(
        'homeauth',
        ['--version'],
        {cwd: home, env: {...userEnv, DEBUG: 'oclif:config:homeauth'}},
        (_e, _o, err) => resolve(String(err)),
      ),
    )
    expect(debug).toContain(`using manifest from ${manifest}`)
  })

  it('runs init, serve --detach, fetch-secret and stop, and serves the page from its template', async () => {
    const init = await homeauth(
      ['init', '--username', 'JeffLynne', '--password-stdin', '--secret', 'Mr. Blue Sky', '--yes'],
      'ELO-1974\n',
    )
    expect(init.code, init.stderr).toBe(0)
    expect(init.stderr).toContain('\n  homeauth serve\n')

    const serve = await homeauth(['serve', '--detach', '--host', '127.0.0.1', '--port', '0'])
    expect(serve.code, serve.stderr).toBe(0)
    expect(serve.stderr).toContain('Check it with: homeauth status; stop it with: homeauth stop')
    const url = serve.stdout.match(/https:\/\/127\.0\.0\.1:\d+\//)![0]

    const fetched = await homeauth(['fetch-secret', '--password-stdin'], 'ELO-1974\n')
    expect(fetched.code, fetched.stderr).toBe(0)
    expect(fetched.stdout).toBe('Mr. Blue Sky\n')

    const ca = readFileSync(path.join(configDir(), 'ca.pem'), 'utf8')
    const page = await request(url, {ca, auth: {username: 'JeffLynne', password: 'ELO-1974'}})
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toContain('Mr. Blue Sky')
    const challenge = await request(url, {ca, headers: {accept: 'text/html'}})
    expect(challenge.status).toBe(401)
    expect(challenge.body).toContain('<code>homeauth passwd</code>')

    const stop = await homeauth(['stop'])
    expect(stop.code, stop.stderr).toBe(0)
    expect(stop.stdout).toMatch(/stopped/)
  })
})
