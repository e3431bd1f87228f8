// One GET over node:https (or node:http for an http: URL) that always resolves: with the status,
// 'timeout', or 'error:<code>'.
import http from 'node:http'
import https from 'node:https'

export function basicAuthorization(username, password) {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
}

/** GETs `url` through `agent`; resolves {status, ms, retryAfterSeconds} and never rejects. */
export function get(url, {agent, authorization, timeoutMs = 10_000}) {
  return new Promise((resolve) => {
    const started = performance.now()
    const done = (status, retryAfter) =>
      resolve({status, ms: performance.now() - started, retryAfterSeconds: Number(retryAfter) || undefined})
    const client = url.startsWith('http:') ? http : https
    const request = client.get(url, {agent, headers: authorization ? {authorization} : {}}, (response) => {
      response.on('end', () => done(String(response.statusCode), response.headers['retry-after']))
      response.on('error', (error) => done(`error:${error.code ?? error.message}`))
      response.resume()
    })
    request.setTimeout(timeoutMs, () => request.destroy(new Error('timeout')))
    request.on('error', (error) =>
      done(error.message === 'timeout' ? 'timeout' : `error:${error.code ?? error.message}`),
    )
  })
}

/** One request with the right password, as a browser signs in (homeauth then has the login cached); throws unless 200. */
export async function signIn(url, ca, authorization) {
  const agent = url.startsWith('http:') ? new http.Agent() : new https.Agent({ca})
  try {
    const {status} = await get(url, {agent, authorization})
    if (status !== '200') throw new Error(`signing in got ${status}, not 200`)
  } finally {
    agent.destroy()
  }
}
