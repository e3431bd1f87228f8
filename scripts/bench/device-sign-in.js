// Part 5: a device's own password next to the user's stored hash. Per round, a fresh homeauth serve
// (nothing cached): the first sign-in with the stored password (one scrypt) and the first with a
// device password (one HMAC), taking turns going first; then 30 sign-ins of each back to back on one
// keep-alive connection (the stored password then cached, the device password checked afresh every
// time). Medians of the rounds; the device is added at the start and revoked at the end, so the other
// parts never see it.
import {spawnSync} from 'node:child_process'
import https from 'node:https'

import {childEnv} from './children.js'
import {byId} from './contenders.js'
import {basicAuthorization, get} from './https-get.js'
import {homeauthBin, password, username} from './setup.js'
import {median} from './stats.js'

const repeats = 30

function deviceCommand(files, args) {
  const result = spawnSync(
    process.execPath,
    [homeauthBin, 'device', ...args, '--config-dir', files.configDir],
    {
      env: childEnv(),
      encoding: 'utf8',
    },
  )
  if (result.status !== 0) throw new Error(`homeauth device ${args[0]} failed:\n${result.stderr}`)
  return result.stdout
}

async function timed(url, agent, authorization, statuses) {
  const {status, ms} = await get(url, {agent, authorization})
  statuses[status] = (statuses[status] ?? 0) + 1
  return ms
}

export async function measureDeviceSignIn(files, ca, options, log) {
  log(`device sign-in: ${options.checkRounds} rounds, a fresh server each`)
  const device = JSON.parse(deviceCommand(files, ['add', 'bench-device', '--json']))
  const stored = basicAuthorization(username, password)
  const own = basicAuthorization(username, device.password)
  const times = {firstStored: [], firstDevice: [], stored: [], device: []}
  const statuses = {}
  try {
    for (let round = 0; round < options.checkRounds; round++) {
      const server = await byId('homeauth').start(files)
      const url = `https://127.0.0.1:${server.port}/api/secret`
      const agent = new https.Agent({keepAlive: true, maxSockets: 1, ca})
      try {
        // No Authorization header: the connection is set up, and nothing is counted.
        await get(url, {agent})
        // Which goes first alternates, so neither always pays for the server's first authenticated request.
        const firsts = [
          () => timed(url, agent, stored, statuses).then((ms) => times.firstStored.push(ms)),
          () => timed(url, agent, own, statuses).then((ms) => times.firstDevice.push(ms)),
        ]
        if (round % 2 === 1) firsts.reverse()
        for (const first of firsts) await first()
        for (let index = 0; index < repeats; index++) {
          times.stored.push(await timed(url, agent, stored, statuses))
          times.device.push(await timed(url, agent, own, statuses))
        }
      } finally {
        agent.destroy()
        await server.stop()
      }
    }
  } finally {
    deviceCommand(files, ['revoke', 'bench-device'])
  }
  const row = (label, values) => ({label, medianMs: median(values), runs: values.length})
  return {
    statuses,
    signIns: [
      row('first sign-in, stored password (scrypt)', times.firstStored),
      row('first sign-in, device password (HMAC)', times.firstDevice),
      row('later sign-ins, stored password (cached)', times.stored),
      row('later sign-ins, device password (HMAC each time)', times.device),
    ],
  }
}
