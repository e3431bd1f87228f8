import {describe, expect, it} from 'vitest'

import {homeauthCommand} from '../../src/invocation.js'
import type {InitResult} from '../../src/setup/init.js'
import {createLogFileOutput} from '../../src/ui/output.js'
import {printInitSummary} from '../../src/ui/setup-summary.js'

/** What init prints when it told `server` to reload (none when undefined). */
async function summary(server: InitResult['signalledServer']): Promise<string> {
  let text = ''
  const output = createLogFileOutput({write: (line) => (text += line)})
  const result: InitResult = {
    configDir: '/home/jeff/.config/homeauth',
    caFile: '/home/jeff/.config/homeauth/ca.pem',
    caFingerprint: 'AA:BB',
    username: 'JeffLynne',
    port: 8443,
    hosts: ['localhost'],
    caKept: true,
    caReplaced: false,
    caConstrained: true,
    signalledServer: server,
  }
  await printInitSummary(output, result, undefined)
  return text
}

describe('the next steps init prints', () => {
  it('says to start serve when no server runs', async () => {
    expect(await summary(undefined)).toContain(`Next:\n  ${homeauthCommand('serve')}\n  curl --cacert `)
  })

  it('says how to restart the server that runs, the way it was started, and never to start another', async () => {
    const running = {pid: 7, credentials: 'stored' as const}
    const underSystemd = await summary({
      ...running,
      logFile: null,
      supervisor: {name: 'systemd', scope: 'user', unit: 'homeauth.service'},
    })
    expect(underSystemd).toContain('To restart it: systemctl --user restart homeauth.service\nTry it:\n')
    const detached = await summary({...running, logFile: '/home/jeff/.config/homeauth/serve.log'})
    expect(detached).toContain(
      `To restart it: ${homeauthCommand('stop')}, then ${homeauthCommand('serve --detach')}\n`,
    )
    for (const text of [underSystemd, detached]) expect(text).not.toContain('Next:')
  })
})
