import {spawnSync} from 'node:child_process'
import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {canonicalHost, subjectAltNames} from '../../src/certificates/inspect.js'
import {serveCommand} from '../../src/daemon/unit.js'
import {cleanEnv, projectDir, runJs, useCli, type CliResult} from '../helpers/cli.js'
import {useConfigCopies} from '../helpers/config-copies.js'
import {getInNamespace, until} from '../helpers/lan.js'
import {NetworkNamespace} from '../helpers/netns.js'

/**
 * A DHCP change as a home sees it, in a network namespace each test makes: the server's LAN
 * interface has 192.168.50.10, then the router hands out 192.168.50.77 instead. The clients run in
 * the same namespace and trust only ca.pem, as a phone that installed the CA does.
 */
const startCli = useCli()
const owner = {username: 'JeffLynne', password: 'Evil Woman'}
const oldAddress = '192.168.50.10'
const newAddress = '192.168.50.77'
/** The poll runs every 10 s: a test waits for it, with room, rather than for the minute promised. */
const reissueWaitMs = 20_000
/** The address families the unit allows (RestrictAddressFamilies=), applied by test/helpers/sandbox.py. */
const unitFamilies = '--families=1,2,10,16'
const sandbox = path.join(projectDir, 'test', 'helpers', 'sandbox.py')
const reissued = (address: string) =>
  new RegExp(`reload: server certificate reissued from the same CA to add ${address.replaceAll('.', '\\.')} `)

describe.skipIf(!NetworkNamespace.available)('a LAN address that changes under homeauth', () => {
  const made: NetworkNamespace[] = []
  afterEach(() => {
    for (const namespace of made.splice(0)) namespace.remove()
  })

  /** A namespace of the test's own whose LAN interface, lan0, has `addresses` (/24 each). */
  function lan(...addresses: string[]): NetworkNamespace {
    const namespace = NetworkNamespace.create()
    made.push(namespace)
    namespace.addLan(
      'lan0',
      addresses.map((address) => `${address}/24`),
    )
    return namespace
  }

  /**
   * The router's new lease, applied as a DHCP client does: the old address goes, the new one comes
   * (added first, the new one would be a secondary address of the subnet, removed with the old).
   */
  function renumber(namespace: NetworkNamespace): void {
    namespace.removeAddress('lan0', `${oldAddress}/24`)
    namespace.addAddress('lan0', `${newAddress}/24`)
  }

  /** `homeauth ARGS` inside the namespace, to completion, with `input` on stdin. */
  async function runInside(namespace: NetworkNamespace, args: string[], input = ''): Promise<CliResult> {
    const cli = startCli(args, {command: [...namespace.prefix, process.execPath, runJs]})
    cli.child.stdin.end(input)
    return cli.exited
  }

  /**
   * Per test, a copy of one `init` made on a LAN that has the old address (port 8443: each namespace
   * has ports of its own), so its certificate names that address, as on the day homeauth was set up.
   */
  const initialised = useConfigCopies(async (configDir) => {
    const namespace = lan(oldAddress)
    const init = spawnSync(
      namespace.prefix[0]!,
      [
        ...namespace.prefix.slice(1),
        process.execPath,
        runJs,
        ...['init', '--config-dir', configDir, '-u', owner.username, '--password-stdin', '--yes', '--no-qr'],
      ],
      {input: `${owner.password}\n`, encoding: 'utf8', env: cleanEnv()},
    )
    namespace.remove()
    expect(init.status, init.stderr).toBe(0)
  })

  const healthz = (address: string) => `https://${address}:8443/healthz`

  it('a server run as the unit runs it (ExecStart, its address families) adds the new address to its certificate within a minute, and logs it once', async () => {
    const namespace = lan(oldAddress)
    const configDir = initialised()
    const caFile = path.join(configDir, 'ca.pem')
    const ca = readFileSync(caFile, 'utf8')
    const [node, ...args] = serveCommand({nodePath: process.execPath, runJsPath: runJs, configDir})
    const server = startCli(args, {command: [...namespace.prefix, 'python3', sandbox, unitFamilies, node!]})
    await server.waitFor(/Press Ctrl\+C to stop/)
    expect(await getInNamespace(namespace, healthz(oldAddress), caFile)).toEqual({status: 200})

    renumber(namespace)
    await server.waitFor(reissued(newAddress), reissueWaitMs)
    expect(await getInNamespace(namespace, healthz(newAddress), caFile)).toEqual({status: 200})
    expect(server.stdout.match(/reissued/g)).toHaveLength(1)
    expect(server.stderr).toBe('')
    expect(readFileSync(caFile, 'utf8')).toBe(ca)

    server.child.kill('SIGTERM')
    expect((await server.exited).code).toBe(0)
  })

  it('serve --detach does the same, saying so in serve.log', async () => {
    const namespace = lan(oldAddress)
    const configDir = initialised()
    const caFile = path.join(configDir, 'ca.pem')
    const started = await runInside(namespace, ['serve', '--config-dir', configDir, '--detach'])
    expect(started.code, started.stderr).toBe(0)
    try {
      renumber(namespace)
      const log = () => readFileSync(path.join(configDir, 'serve.log'), 'utf8')
      await until('the reissue in serve.log', () => reissued(newAddress).test(log()), reissueWaitMs)
      expect(await getInNamespace(namespace, healthz(newAddress), caFile)).toEqual({status: 200})
    } finally {
      const stopped = await runInside(namespace, ['stop', '--config-dir', configDir])
      expect(stopped.code, stopped.stderr).toBe(0)
    }
  })

  it('a server started after the change serves the new address at once, its banner naming it', async () => {
    const namespace = lan(oldAddress)
    const configDir = initialised()
    const caFile = path.join(configDir, 'ca.pem')
    renumber(namespace)
    const server = startCli(['serve', '--config-dir', configDir], {
      command: [...namespace.prefix, process.execPath, runJs],
    })
    await server.waitFor(/Press Ctrl\+C to stop/)
    expect(server.stdout).toContain(`Server certificate reissued to add ${newAddress}\n`)
    expect(await getInNamespace(namespace, healthz(newAddress), caFile)).toEqual({status: 200})
    server.child.kill('SIGTERM')
    expect((await server.exited).code).toBe(0)
  })

  it('leaves IPv6 temporary (privacy) addresses out of the certificate: the kernel replaces them daily', async () => {
    const namespace = lan(oldAddress)
    const sysctl = spawnSync(
      namespace.prefix[0]!,
      [...namespace.prefix.slice(1), 'sh', '-c', 'echo 2 > /proc/sys/net/ipv6/conf/lan0/use_tempaddr'],
      {encoding: 'utf8'},
    )
    expect(sysctl.status, sysctl.stderr).toBe(0)
    namespace.ip('address', 'add', 'fd00:17::1/64', 'dev', 'lan0', 'mngtmpaddr', 'nodad')
    const temporary = () =>
      spawnSync('ip', ['-n', namespace.name, '-6', '-o', 'address', 'show', 'dev', 'lan0', 'temporary'], {
        encoding: 'utf8',
      }).stdout.match(/inet6 (fd00:17:[0-9a-f:]+)\//)?.[1]
    await until('a temporary address', () => temporary() !== undefined, 5_000)

    const configDir = initialised()
    const renewed = await runInside(namespace, ['cert', 'renew', '--config-dir', configDir])
    expect(renewed.code, renewed.stderr).toBe(0)
    const hosts = subjectAltNames(new X509Certificate(readFileSync(path.join(configDir, 'server.pem'))))
    expect(hosts).toEqual(expect.arrayContaining([oldAddress, 'fd00:17::1']))
    expect(hosts).not.toContain(canonicalHost(temporary()!))
    expect(hosts.filter((host) => host.startsWith('fd00:17:'))).toEqual(['fd00:17::1'])
  })
})
