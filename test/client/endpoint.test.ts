import {spawn, type ChildProcess} from 'node:child_process'

import {afterEach, describe, expect, it} from 'vitest'

import {endpointUrl, hostAndPort, resolveEndpoint, serverName} from '../../src/client/endpoint.js'
import {writeState} from '../../src/daemon/state.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

/** Records in state.json a live process with `serve` on its command line, as a running server would. */
async function recordRunningServer(configDir: string, url: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'serve'], {stdio: 'ignore'})
  children.push(child)
  await new Promise((resolve) => child.once('spawn', resolve))
  await writeState(configDir, {pid: child.pid!, url, startedAt: new Date().toISOString(), logFile: null})
}

describe('endpointUrl', () => {
  it('adds /api/secret to a base URL and keeps a full endpoint', () => {
    expect(endpointUrl('https://pi.local:8443').href).toBe('https://pi.local:8443/api/secret')
    expect(endpointUrl('https://[::1]:8443/').href).toBe('https://[::1]:8443/api/secret')
    expect(endpointUrl('https://pi.local/custom/path').href).toBe('https://pi.local/custom/path')
  })

  it('refuses credentials in the URL, which would land in shell history', () => {
    expect(() => endpointUrl('https://jeff:elo@pi.local')).toThrow(/shell history/)
  })
})

describe('resolveEndpoint', () => {
  it('takes --url over a running server and the config port', async () => {
    const configDir = tempDir()
    await recordRunningServer(configDir, 'https://127.0.0.1:9001/')
    const url = await resolveEndpoint({configDir, url: 'https://pi.local:9002', configPort: 9003})
    expect(url.href).toBe('https://pi.local:9002/api/secret')
  })

  it('takes the URL a running server recorded in state.json over the config port', async () => {
    const configDir = tempDir()
    await recordRunningServer(configDir, 'https://127.0.0.1:9001/')
    expect((await resolveEndpoint({configDir, configPort: 9003})).href).toBe(
      'https://127.0.0.1:9001/api/secret',
    )
  })

  it('falls back to localhost on the config port, else on 8443', async () => {
    const configDir = tempDir()
    expect((await resolveEndpoint({configDir, configPort: 9003})).href).toBe(
      'https://localhost:9003/api/secret',
    )
    expect((await resolveEndpoint({configDir})).href).toBe('https://localhost:8443/api/secret')
  })
})

describe('hostAndPort and serverName', () => {
  it('name the port 443 when the URL leaves it out, and send no address in SNI', () => {
    expect(hostAndPort(new URL('https://pi.local/api/secret'))).toBe('pi.local:443')
    expect(hostAndPort(new URL('https://[::1]:8443/'))).toBe('[::1]:8443')
    expect(serverName(new URL('https://pi.local:8443/'))).toBe('pi.local')
    expect(serverName(new URL('https://[::1]:8443/'))).toBeUndefined()
    expect(serverName(new URL('https://192.168.1.20/'))).toBeUndefined()
  })
})
