import http, {type IncomingHttpHeaders} from 'node:http'
import https from 'node:https'

export interface Response {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export interface RequestOptions {
  ca?: string
  method?: string
  headers?: Record<string, string>
  /** Sent as `Authorization: Basic base64(user:password)`. */
  auth?: {username: string; password: string}
  servername?: string
  /** Source address, e.g. 127.0.0.2, to act as another client on loopback. */
  localAddress?: string
  /** Gives up after this long without activity; 10 s unless a test expects a long queue. */
  timeoutMs?: number
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
}

/**
 * One HTTPS request that trusts only `ca` (never the system store, never verification off), or one
 * plain HTTP request for an `http:` URL.
 */
export function request(url: string, options: RequestOptions = {}): Promise<Response> {
  const headers = {...options.headers}
  if (options.auth) headers.authorization = basicHeader(options.auth.username, options.auth.password)
  const client = url.startsWith('http:') ? http : https
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: options.method ?? 'GET',
        headers,
        ca: options.ca,
        agent: false,
        servername: options.servername,
        localAddress: options.localAddress,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
        res.on('error', reject)
      },
    )
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`request to ${url} timed out`)))
    req.on('error', reject)
    req.end()
  })
}
