import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {projectDir, runJs, urlPattern, useCli} from '../helpers/cli.js'
import {request} from '../helpers/https.js'
import {initialisedForLoopback, owner, secret} from '../helpers/service.js'
import {useTempDir} from '../helpers/temp.js'

/**
 * The unit's sandbox, checked without systemd: test/helpers/sandbox.py applies the kernel
 * restriction systemd would (prctl PR_SET_MDWE for MemoryDenyWriteExecute=, a seccomp filter on
 * socket() for RestrictAddressFamilies=) and then runs node. It exits 97 when the kernel refuses.
 */
const sandbox = path.join(projectDir, 'test', 'helpers', 'sandbox.py')
const refusedByKernel = 97
const tempDir = useTempDir()
const startCli = useCli()

const AF_UNIX = 1
const AF_INET = 2
const AF_INET6 = 10
const AF_NETLINK = 16

describe('MemoryDenyWriteExecute (why the unit leaves it out)', () => {
  it('makes Node abort as soon as V8 compiles code', ({skip}) => {
    const result = spawnSync('python3', [sandbox, '--mdwe', process.execPath, '-e', 'console.log(6 * 7)'], {
      encoding: 'utf8',
    })
    if (result.status === refusedByKernel) skip(`the kernel has no PR_SET_MDWE: ${result.stderr}`)
    expect(result.stdout).not.toContain('42')
    expect(result.signal).toBe('SIGTRAP')
    expect(result.stderr).toContain('Check failed')
  })

  it('keeps homeauth from even printing its version', () => {
    const result = spawnSync('python3', [sandbox, '--mdwe', process.execPath, runJs, '--version'], {
      encoding: 'utf8',
    })
    expect(result.status === refusedByKernel || result.signal === 'SIGTRAP').toBe(true)
    expect(result.stdout).toBe('')
  })
})

describe('RestrictAddressFamilies (why the unit allows AF_NETLINK)', () => {
  const families = (...list: number[]) => `--families=${list.join(',')}`

  it('without AF_NETLINK, serve fails: Node lists the network interfaces through a netlink socket', async () => {
    const configDir = await initialisedForLoopback(path.join(tempDir(), 'config'))
    const cli = startCli(['serve', '--config-dir', configDir], {
      command: ['python3', sandbox, families(AF_UNIX, AF_INET, AF_INET6), process.execPath, runJs],
    })
    const result = await cli.exited
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('uv_interface_addresses')
  })

  it('with AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK, serve answers over TLS', async () => {
    const configDir = await initialisedForLoopback(path.join(tempDir(), 'config'))
    const cli = startCli(['serve', '--config-dir', configDir], {
      command: [
        'python3',
        sandbox,
        families(AF_UNIX, AF_INET, AF_INET6, AF_NETLINK),
        process.execPath,
        runJs,
      ],
    })
    const [url] = await cli.waitFor(urlPattern)
    const response = await request(`${url}api/secret`, {
      ca: readFileSync(path.join(configDir, 'ca.pem'), 'utf8'),
      auth: owner,
    })
    expect(JSON.parse(response.body)).toEqual({message: secret})
    cli.child.kill('SIGTERM')
    expect((await cli.exited).code).toBe(0)
  })
})
