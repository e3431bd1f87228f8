import {isIP} from 'node:net'

import {serverPort} from '../config/config.js'
import {usageError} from '../errors.js'
import {findRunningServer} from '../daemon/state.js'
import {unbracketHost} from '../net/address.js'

export interface EndpointInputs {
  configDir: string
  /** --url: a base URL or the full endpoint. */
  url?: string
  /** The port stored by `init`, if any. */
  configPort?: number
}

/**
 * Which server to ask: --url, else the URL a server running on this config directory recorded in
 * state.json, else localhost on the config's port (else the default port).
 */
export async function resolveEndpoint(inputs: EndpointInputs): Promise<URL> {
  if (inputs.url !== undefined) return endpointUrl(inputs.url)
  const running = await findRunningServer(inputs.configDir)
  return endpointUrl(running?.url ?? `https://localhost:${serverPort(inputs.configPort)}/`)
}

/** Turns --url into the endpoint: a base URL gets /api/secret, a full endpoint is kept. */
export function endpointUrl(input: string): URL {
  let url: URL
  try {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) throw new TypeError('no scheme')
    url = new URL(input)
  } catch {
    throw usageError(`${JSON.stringify(input)} is not a URL.`, [
      'Pass one like https://localhost:8443 or https://pi.local:8443/api/secret.',
    ])
  }
  if (url.protocol !== 'https:') {
    throw usageError(`${url.protocol.slice(0, -1)} URLs are not supported: homeauth only talks HTTPS.`, [
      `Use https://${url.host}${url.pathname === '/' ? '' : url.pathname}`,
    ])
  }
  if (url.username || url.password) {
    throw usageError('Credentials in the URL would end up in shell history.', [
      'Use --username with --password-stdin or HOMEAUTH_PASSWORD.',
    ])
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/api/secret'
  return url
}

/** The port of an HTTPS URL: 443 when the URL leaves it out. */
export function httpsPort(url: URL): number {
  return Number(url.port || 443)
}

/** "host:port" of the endpoint, for messages. */
export function hostAndPort(url: URL): string {
  return `${url.hostname}:${httpsPort(url)}`
}

/** The host to connect to: the URL's host name without the brackets of an IPv6 address. */
export function connectHost(url: URL): string {
  return unbracketHost(url.hostname)
}

/** The name to send in SNI, which carries host names only (RFC 6066 §3): undefined for an address. */
export function serverName(url: URL): string | undefined {
  const host = connectHost(url)
  return isIP(host) ? undefined : host
}
