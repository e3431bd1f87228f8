import http from 'node:http'
import type {AddressInfo} from 'node:net'

/** What the upstream app saw of one request that reached it. */
export interface UpstreamRequest {
  path: string
  /** Every `Remote-User` header it received, in order: a client-sent one left beside the proxy's shows up here. */
  remoteUser: string[]
  authorization: boolean
}

export interface UpstreamApp {
  /** host:port, as a proxy config names its upstream. */
  address: string
  /** Every request that reached the app, oldest first. */
  requests: UpstreamRequest[]
  close(): Promise<void>
}

/** A stand-in for the app behind the proxy (Home Assistant, Node-RED…) on 127.0.0.1: answers 200 with what it saw as JSON. */
export async function startUpstream(): Promise<UpstreamApp> {
  const requests: UpstreamRequest[] = []
  const server = http.createServer((req, res) => {
    const remoteUser: string[] = []
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]!.toLowerCase() === 'remote-user') remoteUser.push(req.rawHeaders[i + 1]!)
    }
    const seen = {path: req.url ?? '', remoteUser, authorization: req.headers.authorization !== undefined}
    requests.push(seen)
    res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({app: 'upstream', ...seen}))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(0, '127.0.0.1', resolve)
  })
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
