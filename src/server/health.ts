import {X509Certificate} from 'node:crypto'
import https from 'node:https'

export interface Health {
  ok: boolean
  /** The certificate the server presented. */
  certificate: X509Certificate | undefined
}

/**
 * GET /healthz on a server's URL. Verification is off on purpose: the request carries no
 * credentials and the answer reveals nothing, and callers identify the server by the PID in
 * state.json; what is wanted is whether it answers, and which certificate it serves.
 */
export function probeHealth(url: string, timeoutMs = 3000): Promise<Health> {
  return new Promise((resolve) => {
    const request = https.get(
      new URL('healthz', url),
      {rejectUnauthorized: false, agent: false, timeout: timeoutMs},
      (response) => {
        const raw = (response.socket as import('node:tls').TLSSocket).getPeerCertificate().raw
        const certificate = raw ? new X509Certificate(raw) : undefined
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () =>
          resolve({ok: response.statusCode === 200 && body.includes('"ok"'), certificate}),
        )
      },
    )
    request.on('timeout', () => request.destroy())
    request.on('error', () => resolve({ok: false, certificate: undefined}))
  })
}
