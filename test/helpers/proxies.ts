import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import net, {type AddressInfo} from 'node:net'
import os from 'node:os'
import path from 'node:path'

import {cleanEnv, CliProcess, projectDir, runCli, runJs} from './cli.js'
import {startUpstream, type UpstreamApp} from './upstream.js'

export type ProxyKind = 'caddy' | 'nginx'
/** How the proxy reaches homeauth: `--auth-listen` on loopback (plain HTTP), or the HTTPS port trusting its CA. */
export type AuthPath = 'auth-listen' | 'https'

export const proxyBinaries: Record<ProxyKind, string> = {caddy: '/usr/bin/caddy', nginx: '/usr/sbin/nginx'}

export const owner = {username: 'JeffLynne', password: 'Mr. Blue Sky 1977'}

/** The addresses and files the recipes of docs/forward-auth.md name, which a test fills in with its own. */
const placeholders = {
  app: '127.0.0.1:8123',
  authListen: '127.0.0.1:9091',
  homeauthHttps: 'homeauth.home.arpa:8443',
  homeauthName: 'homeauth.home.arpa',
  ca: {caddy: '/etc/caddy/homeauth-ca.pem', nginx: '/etc/nginx/homeauth-ca.pem'},
}

/** The config block that follows `<!-- recipe: NAME -->` in docs/forward-auth.md, as a reader copies it. */
export function documentedRecipe(name: string): string {
  const page = readFileSync(path.join(projectDir, 'docs', 'forward-auth.md'), 'utf8')
  const match = page.match(new RegExp(`<!-- recipe: ${name} -->\\n\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\`\\n`))
  if (!match) throw new Error(`docs/forward-auth.md has no recipe block named ${name}`)
  return match[1]!
}

function replaceOnce(text: string, search: string | RegExp, replacement: string): string {
  const replaced = text.replace(search, replacement)
  if (replaced === text) throw new Error(`the recipe no longer contains ${String(search)}:\n${text}`)
  return replaced
}

function replaceAll(text: string, search: string, replacement: string): string {
  if (!text.includes(search)) throw new Error(`the recipe no longer contains ${search}:\n${text}`)
  return text.replaceAll(search, replacement)
}

/** The documented recipe for `proxy` and `authPath`, unchanged but for the test's addresses and CA file. */
export function recipeFor(
  proxy: ProxyKind,
  authPath: AuthPath,
  fill: {app: string; auth: string; ca: string},
) {
  // nginx's recipe comes in two blocks: the upstream (for the http block, see startNginx) and the server's.
  let recipe =
    proxy === 'nginx'
      ? `${documentedRecipe('nginx-upstream')}${documentedRecipe('nginx')}`
      : documentedRecipe(proxy)
  if (authPath === 'https') {
    recipe =
      proxy === 'caddy'
        ? documentedRecipe('caddy-https')
        : replaceOnce(
            replaceOnce(recipe, upstreamBlock, ''),
            /^location = \/homeauth \{\n[\s\S]*?\n\}\n/m,
            documentedRecipe('nginx-https'),
          )
    recipe = replaceAll(recipe, placeholders.homeauthHttps, fill.auth)
    recipe = replaceAll(recipe, placeholders.ca[proxy], fill.ca)
    // The test reaches homeauth by IP: nginx checks the certificate for localhost, a name it holds, as it would for homeauth.home.arpa.
    if (proxy === 'nginx') recipe = replaceAll(recipe, placeholders.homeauthName, 'localhost')
  } else {
    recipe = replaceAll(recipe, placeholders.authListen, fill.auth)
  }
  return replaceAll(recipe, placeholders.app, fill.app)
}

/** The recipe with `?user=` naming `users`, as docs/forward-auth.md's "Only some people" says. */
export function restrictTo(recipe: string, users: string[]): string {
  const query = users.map((user) => `user=${encodeURIComponent(user)}`).join('&')
  return replaceOnce(recipe, /\/auth\??(?=;|\n)/, `/auth?${query}`)
}

/** `count` distinct TCP ports on 127.0.0.1 that were free a moment ago (held together, so never the same twice). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers = Array.from({length: count}, () => net.createServer())
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve)),
    ),
  )
  const ports = servers.map((server) => (server.address() as AddressInfo).port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.setTimeout(1000, () => socket.destroy())
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('close', () => resolve(false))
  })
}

/** A started program with its output, for error messages. */
interface Started {
  child: ChildProcess
  output: () => string
}

function startProgram(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Started {
  // Its own process group, so a stop can reach nginx's worker processes too.
  const child = spawn(command, args, {cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true})
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  return {child, output: () => output}
}

/** Resolves once every port accepts connections; rejects when the program exits first or 15 s pass. */
async function waitForPorts(program: Started, ports: number[], name: string): Promise<void> {
  const deadline = Date.now() + 15_000
  for (;;) {
    if (program.child.exitCode !== null || program.child.signalCode !== null) {
      throw new Error(`${name} exited before listening:\n${program.output()}`)
    }
    const ready = await Promise.all(ports.map((port) => accepts(port)))
    if (ready.every(Boolean)) return
    if (Date.now() > deadline)
      throw new Error(`${name} did not listen on ${ports.join(', ')}:\n${program.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** `signal`, then SIGKILL to its process group after `graceMs`. */
async function stopProgram(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 8_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      child.kill('SIGKILL')
    }
  }, graceMs)
  await exited
  clearTimeout(timer)
}

/** The sites the proxy serves, each the documented recipe with another `/auth` URL or CA. */
export interface ProxySites {
  /** Any signed-in user. */
  open: string
  /** `?user=alice&user=bob`: not the owner. */
  othersOnly: string
  /** `?user=alice&user=<owner>`. */
  ownerIncluded: string
  /** Over HTTPS only: the recipe trusting the system's public CAs instead of homeauth's. */
  publicCasOnly?: string
}

export interface ProxyStack {
  /** Base URLs through the proxy. */
  sites: ProxySites
  upstream: UpstreamApp
  /** Stops homeauth alone (SIGTERM), leaving the proxy and the app running. */
  stopHomeauth(): Promise<void>
  stop(): Promise<void>
}

const systemCaBundle = '/etc/ssl/certs/ca-certificates.crt'

/**
 * homeauth (`init` in a temp config dir, then `serve`), the upstream app and the real `proxy` on
 * loopback, configured from the documented recipe. On any failure everything started is stopped.
 */
export async function startProxyStack(
  proxy: ProxyKind,
  authPath: AuthPath,
  options: {maxFailures: number},
): Promise<ProxyStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `homeauth-${proxy}-`))
  const cleanups: (() => Promise<void>)[] = [async () => rmSync(dir, {recursive: true, force: true})]
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  }
  try {
    const configDir = path.join(dir, 'homeauth')
    const init = await runCli(
      ['init', '--config-dir', configDir, '-u', owner.username, '--password-stdin', '--yes', '--no-qr'],
      {input: `${owner.password}\n`},
    )
    if (init.code !== 0) throw new Error(`homeauth init failed:\n${init.stdout}${init.stderr}`)

    const serveArgs = ['serve', '--config-dir', configDir, '--host', '127.0.0.1', '--port', '0']
    serveArgs.push('--max-failures', String(options.maxFailures), '--trust-proxy', '127.0.0.1')
    if (authPath === 'auth-listen') serveArgs.push('--auth-listen', '127.0.0.1:0')
    const homeauth = new CliProcess(
      spawn(process.execPath, [runJs, ...serveArgs], {cwd: projectDir, env: cleanEnv(), stdio: 'pipe'}),
    )
    const stopHomeauth = () => stopProgram(homeauth.child)
    cleanups.push(stopHomeauth)
    // Both listeners are up once the banner is out, and it names the port each was given.
    const [, httpsPort] = await homeauth.waitForBanner()
    const [, authPort] =
      authPath === 'auth-listen'
        ? await homeauth.waitFor(/Forward auth for a proxy on this machine: http:\/\/127\.0\.0\.1:(\d+)\//)
        : [undefined, httpsPort]

    const upstream = await startUpstream()
    cleanups.push(() => upstream.close())

    const fill = {
      app: upstream.address,
      auth: `127.0.0.1:${authPort}`,
      ca: path.join(configDir, 'ca.pem'),
    }
    const recipe = recipeFor(proxy, authPath, fill)
    const siteRecipes: Record<keyof ProxySites, string | undefined> = {
      open: recipe,
      othersOnly: restrictTo(recipe, ['alice', 'bob']),
      ownerIncluded: restrictTo(recipe, ['alice', owner.username]),
      publicCasOnly:
        authPath === 'https' ? recipeFor(proxy, authPath, {...fill, ca: systemCaBundle}) : undefined,
    }
    const names = (Object.keys(siteRecipes) as (keyof ProxySites)[]).filter((name) => siteRecipes[name])
    const ports = await freeLoopbackPorts(names.length)
    const sites = names.map((name, index) => ({name, port: ports[index]!, recipe: siteRecipes[name]!}))
    // The distrusting site runs in a proxy of its own: nginx keeps one TLS session per upstream address
    // for all its locations, and resumes it without verifying the certificate again.
    const groups = [
      sites.filter(({name}) => name !== 'publicCasOnly'),
      sites.filter(({name}) => name === 'publicCasOnly'),
    ]
    for (const [index, group] of groups.entries()) {
      if (group.length === 0) continue
      const proxyDir = path.join(dir, `${proxy}-${index}`)
      const program = proxy === 'caddy' ? startCaddy(proxyDir, group) : startNginx(proxyDir, group)
      // Caddy waits out its grace period for open connections (often more than 5 s); a test proxy has nothing to finish.
      cleanups.push(() => stopProgram(program.child, proxy === 'caddy' ? 'SIGKILL' : 'SIGTERM'))
      await waitForPorts(
        program,
        group.map(({port}) => port),
        proxy,
      )
    }

    return {
      sites: Object.fromEntries(
        sites.map(({name, port}) => [name, `http://127.0.0.1:${port}`]),
      ) as unknown as ProxySites,
      upstream,
      stopHomeauth,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

const indent = (text: string, prefix: string) =>
  text
    .split('\n')
    .map((line) => (line ? prefix + line : line))
    .join('\n')

/** Caddy in `caddyDir` (made here), one site per recipe. */
function startCaddy(caddyDir: string, sites: {port: number; recipe: string}[]): Started {
  mkdirSync(caddyDir)
  const caddyfile = path.join(caddyDir, 'Caddyfile')
  const blocks = sites.map(({port, recipe}) => `http://127.0.0.1:${port} {\n${indent(recipe, '\t')}}\n`)
  // No admin endpoint and no certificates: a test instance must not bind :2019 or touch ~/.local/share/caddy.
  const global = `{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${path.join(caddyDir, 'storage')}\n}\n`
  writeFileSync(caddyfile, [global, ...blocks].join('\n'))
  const home = {HOME: caddyDir, XDG_CONFIG_HOME: caddyDir, XDG_DATA_HOME: caddyDir}
  return startProgram(
    proxyBinaries.caddy,
    ['run', '--config', caddyfile, '--adapter', 'caddyfile'],
    {...process.env, ...home},
    caddyDir,
  )
}

/** An nginx `upstream` block at the start of a line, which belongs in the http block. */
const upstreamBlock = /^upstream \S+ \{\n[\s\S]*?\n\}\n/m

/** nginx in `nginxDir` (made here), one server block per recipe, its upstream blocks (once each) in the http block. */
function startNginx(nginxDir: string, sites: {port: number; recipe: string}[]): Started {
  mkdirSync(nginxDir)
  const temp = (name: string) => path.join(nginxDir, name)
  const upstreams = new Set(sites.flatMap(({recipe}) => recipe.match(new RegExp(upstreamBlock, 'gm')) ?? []))
  const servers = sites.map(
    ({port, recipe}) =>
      `    server {\n        listen 127.0.0.1:${port};\n${indent(recipe.replace(new RegExp(upstreamBlock, 'gm'), ''), '        ')}    }\n`,
  )
  const conf = [
    'events {}',
    'http {',
    '    access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
      (kind) => `    ${kind}_temp_path ${temp(kind)};`,
    ),
    ...[...upstreams].map((upstream) => indent(upstream, '    ')),
    ...servers,
    '}',
    '',
  ].join('\n')
  const confFile = temp('nginx.conf')
  writeFileSync(confFile, conf)
  const globals = `daemon off; pid ${temp('nginx.pid')}; error_log ${temp('error.log')};`
  const program = startProgram(
    proxyBinaries.nginx,
    ['-p', nginxDir, '-e', temp('error.log'), '-c', confFile, '-g', globals],
    process.env,
    nginxDir,
  )
  return {
    child: program.child,
    output: () => {
      const log = existsSync(temp('error.log')) ? readFileSync(temp('error.log'), 'utf8') : ''
      return `${program.output()}${log}`
    },
  }
}
