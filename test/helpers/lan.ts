import {spawn} from 'node:child_process'
import os from 'node:os'

import {afterEach, vi} from 'vitest'

import {cleanEnv} from './cli.js'
import type {NetworkNamespace} from './netns.js'

/**
 * Gives this process a made-up LAN (one interface, `lan0`) for the rest of the test: what
 * os.networkInterfaces() lists, where homeauth reads the machine's addresses. Returns how to change it.
 */
export function useFakeLan(): (addresses: string[]) => void {
  afterEach(() => {
    vi.restoreAllMocks()
  })
  return (addresses) => {
    const lan0 = addresses.map((address): os.NetworkInterfaceInfo => {
      const common = {address, mac: '02:00:00:00:00:01', internal: false}
      return address.includes(':')
        ? {...common, family: 'IPv6', netmask: 'ffff:ffff:ffff:ffff::', cidr: `${address}/64`, scopeid: 0}
        : {...common, family: 'IPv4', netmask: '255.255.255.0', cidr: `${address}/24`}
    })
    vi.spyOn(os, 'networkInterfaces').mockReturnValue({lan0})
  }
}

/** What a client got: the HTTP status, or the error code of a connection that failed (a TLS one included). */
export type Outcome = {status: number} | {error: string}

/** A GET from a client that trusts exactly the CA in `caFile`, run with its argv: [url, caFile]. */
const getTrustingOnlyCa = `
const https = require('node:https')
const fs = require('node:fs')
const [url, caFile] = process.argv.slice(1)
const report = (outcome) => console.log(JSON.stringify(outcome))
https
  .get(url, {ca: fs.readFileSync(caFile), agent: false, timeout: 5000}, (res) => {
    res.resume()
    report({status: res.statusCode})
  })
  .on('timeout', function () { this.destroy(Object.assign(new Error('timed out'), {code: 'ETIMEDOUT'})) })
  .on('error', (error) => report({error: error.code ?? error.message}))
`

/** GETs `url` from inside `namespace`, trusting only the CA in `caFile`, as a phone that installed it would. */
export function getInNamespace(namespace: NetworkNamespace, url: string, caFile: string): Promise<Outcome> {
  const child = spawn(
    namespace.prefix[0]!,
    [...namespace.prefix.slice(1), process.execPath, '-e', getTrustingOnlyCa, url, caFile],
    {env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']},
  )
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    child.on('close', () => {
      try {
        resolve(JSON.parse(stdout) as Outcome)
      } catch {
        reject(new Error(`the client in ${namespace.name} said: ${stdout}${stderr}`))
      }
    })
  })
}

/** Resolves once `condition` holds; rejects after `timeoutMs`, saying what was awaited. */
export async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
