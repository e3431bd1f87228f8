import {isIP} from 'node:net'

import {readConfig, serverPort} from '../config/config.js'
import {httpsPort} from '../client/endpoint.js'
import {findRunningServer} from '../daemon/state.js'
import {bracketHost} from '../net/address.js'
import {isWildcardHost, lanAddresses} from '../net/hosts.js'
import type {OnboardingUrls, ServerOnboardingUrls} from '../web/onboarding-urls.js'

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(::ffff:)?127\./i.test(host)
}

function onboardingUrl(host: string, port: number): string {
  return `http://${bracketHost(host)}:${port}/`
}

/**
 * The onboarding URLs of a server listening on `host` (all interfaces when left out) and `port`:
 * every LAN address for a wildcard host ('0.0.0.0' only the IPv4 ones), the address itself for any
 * other, none for a loopback one.
 */
export function onboardingUrls(port: number, host = '::', addresses = lanAddresses()): OnboardingUrls {
  const localUrl = onboardingUrl(isWildcardHost(host) || isLoopback(host) ? 'localhost' : host, port)
  if (isLoopback(host)) return {urls: [], localUrl, loopbackHost: host}
  if (!isWildcardHost(host)) return {urls: [onboardingUrl(host, port)], localUrl}
  const reachable = addresses.filter((address) => host === '::' || isIP(address) === 4)
  // IPv4 first: it is what a phone on a home network reaches most surely, so it goes in the QR code.
  const ordered = [
    ...reachable.filter((address) => isIP(address) === 4),
    ...reachable.filter((address) => isIP(address) !== 4),
  ]
  return {urls: ordered.map((address) => onboardingUrl(address, port)), localUrl}
}

/**
 * The onboarding URLs of the server on `configDir`: the running one's port and address, else
 * config.json's, else 8443 on all interfaces.
 */
export async function findOnboardingUrls(configDir: string): Promise<ServerOnboardingUrls> {
  const running = await findRunningServer(configDir)
  if (running) {
    return {...onboardingUrls(httpsPort(new URL(running.url)), running.host), serverRunning: true}
  }
  const config = await readConfig(configDir)
  return {...onboardingUrls(serverPort(config?.serve.port), config?.serve.host), serverRunning: false}
}
