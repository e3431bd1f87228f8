// The real reverse proxies of the auth part: Caddy and nginx, started unprivileged-friendly from
// configs written into the bench's temporary directory, one site (a port on 127.0.0.1) per case,
// pinned to the server core. Forward auth uses the recipes of docs/forward-auth.md as written.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'

import {childEnv, pinning, spawnTracked, stopChild} from './children.js'

export const proxyBinaries = {caddy: '/usr/bin/caddy', nginx: '/usr/sbin/nginx'}

const forwardAuthPage = fileURLToPath(new URL('../../docs/forward-auth.md', import.meta.url))
/** The addresses the recipes name: the app, and homeauth's --auth-listen. */
const placeholders = {app: '127.0.0.1:8123', auth: '127.0.0.1:9091'}

/** The `<!-- recipe: NAME -->` blocks of docs/forward-auth.md, one after another, with the bench's app and gate addresses. */
function documentedRecipe(names, {app, gate}) {
  const page = readFileSync(forwardAuthPage, 'utf8')
  const recipe = names
    .map(
      (name) =>
        page.match(new RegExp(`<!-- recipe: ${name} -->\\n\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\`\\n`))?.[1] ?? '',
    )
    .join('')
  if (!recipe.includes(placeholders.app) || !recipe.includes(placeholders.auth))
    throw new Error(
      `docs/forward-auth.md has no recipes ${names.join(', ')} naming ${Object.values(placeholders).join(' and ')}`,
    )
  return recipe.replaceAll(placeholders.app, app).replaceAll(placeholders.auth, gate)
}

/** An nginx `upstream` block at the start of a line, which belongs in the http block (see nginxConfig). */
const upstreamBlock = /^upstream \S+ \{\n[\s\S]*?\n\}\n/gm

const indent = (text, prefix) =>
  text
    .split('\n')
    .map((line) => (line ? prefix + line : line))
    .join('\n')

/** `count` distinct free ports on 127.0.0.1 (held together while they are picked, so never the same twice). */
async function freePorts(count) {
  const servers = Array.from({length: count}, () => net.createServer())
  await Promise.all(
    servers.map(
      (server) =>
        new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve)),
    ),
  )
  const ports = servers.map((server) => server.address().port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.setTimeout(1000, () => socket.destroy())
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('close', () => resolve(false))
    socket.once('error', () => resolve(false))
  })
}

/**
 * What each proxy's sites hold: no auth, the proxy's own Basic auth, or forward auth to a gate.
 * `app` and `gate` are host:port; `caddyHash` and `htpasswd` the proxy's own stored password.
 */
const siteConfig = {
  caddy: {
    none: ({app}) => `reverse_proxy ${app}\n`,
    own: ({app, caddyHash, username}) =>
      `basicauth {\n\t${username} ${caddyHash}\n}\nreverse_proxy ${app} {\n\theader_up -Authorization\n}\n`,
    forward: ({app, gate}) => documentedRecipe(['caddy'], {app, gate}),
  },
  nginx: {
    none: ({app}) => `location / {\n    proxy_pass http://${app};\n}\n`,
    own: ({app, htpasswd}) =>
      `location / {\n    auth_basic "bench";\n    auth_basic_user_file ${htpasswd};\n` +
      `    proxy_set_header Authorization "";\n    proxy_pass http://${app};\n}\n`,
    // Both gates sit in one nginx: each gets an upstream of its own name.
    forward: ({app, gate}) =>
      documentedRecipe(['nginx-upstream', 'nginx'], {app, gate})
        .replace('upstream homeauth {', `upstream gate_${gate.split(':')[1]} {`)
        .replace('http://homeauth/', `http://gate_${gate.split(':')[1]}/`),
  },
}

/** Caddy's own hash of the password (bcrypt, what `caddy hash-password` makes by default). */
function caddyHash(password) {
  return execFileSync(proxyBinaries.caddy, ['hash-password', '--plaintext', password], {
    encoding: 'utf8',
  }).trim()
}

/** An htpasswd line nginx's auth_basic accepts: apr1 (MD5), what Apache's htpasswd writes by default. */
function htpasswdLine(username, password) {
  const hash = execFileSync('openssl', ['passwd', '-apr1', '-stdin'], {
    input: `${password}\n`,
    encoding: 'utf8',
  }).trim()
  return `${username}:${hash}\n`
}

function caddyConfig(dir, sites) {
  const blocks = sites.map(({port, config}) => `http://127.0.0.1:${port} {\n${indent(config, '\t')}}\n`)
  // No admin endpoint and no certificates; its storage and autosaved config go to the temporary
  // directory (Caddy 2.6 has no persist_config option).
  const global = `{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${path.join(dir, 'storage')}\n}\n`
  const file = path.join(dir, 'Caddyfile')
  writeFileSync(file, [global, ...blocks].join('\n'))
  return {
    args: ['run', '--config', file, '--adapter', 'caddyfile'],
    env: childEnv({HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir}),
  }
}

function nginxConfig(dir, sites) {
  const file = (name) => path.join(dir, name)
  const upstreams = sites.flatMap(({config}) => config.match(upstreamBlock) ?? [])
  const servers = sites.map(
    ({port, config}) =>
      `    server {\n        listen 127.0.0.1:${port};\n${indent(config.replace(upstreamBlock, ''), '        ')}    }\n`,
  )
  // One process (no master, no workers) so its CPU time is all in one /proc entry; no access log.
  const conf = [
    'daemon off;',
    'master_process off;',
    `pid ${file('nginx.pid')};`,
    `error_log ${file('error.log')};`,
    'events {}',
    'http {',
    '    access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
      (kind) => `    ${kind}_temp_path ${file(kind)};`,
    ),
    ...upstreams.map((upstream) => indent(upstream, '    ')),
    ...servers,
    '}',
    '',
  ].join('\n')
  writeFileSync(file('nginx.conf'), conf)
  return {args: ['-p', dir, '-e', file('error.log'), '-c', file('nginx.conf')], env: childEnv()}
}

/**
 * Starts `proxy` (pinned to the server core) in `dir` with one site per case, each
 * `{id, auth: 'none' | 'own' | 'forward', gate?: host:port}`. Resolves with the proxy's pid, each case's
 * base URL, and `stop()`; undefined when the proxy's binary is absent.
 */
export async function startProxy(proxy, dir, cases, {app, username, password}) {
  const binary = proxyBinaries[proxy]
  if (!existsSync(binary)) return undefined
  mkdirSync(dir)
  const secrets =
    proxy === 'caddy' ? {caddyHash: caddyHash(password)} : {htpasswd: path.join(dir, 'htpasswd')}
  if (proxy === 'nginx') writeFileSync(secrets.htpasswd, htpasswdLine(username, password))
  const ports = await freePorts(cases.length)
  const sites = cases.map(({auth, gate}, index) => ({
    port: ports[index],
    config: siteConfig[proxy][auth]({app, gate, username, ...secrets}),
  }))
  const {args, env} = (proxy === 'caddy' ? caddyConfig : nginxConfig)(dir, sites)
  const child = spawnTracked(binary, args, {core: pinning.serverCore, env, cwd: dir})
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk))
  const deadline = Date.now() + 15_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${proxy} exited before listening:\n${output}`)
    if ((await Promise.all(ports.map(accepts))).every(Boolean)) break
    if (Date.now() > deadline) throw new Error(`${proxy} did not listen on ${ports.join(', ')}:\n${output}`)
    await sleep(50)
  }
  return {
    pid: child.pid,
    urls: Object.fromEntries(cases.map(({id}, index) => [id, `http://127.0.0.1:${ports[index]}`])),
    // Caddy may wait out a long grace period for open connections; a bench proxy has nothing to finish.
    stop: () => stopChild(child, 1000),
  }
}
