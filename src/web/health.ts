import {X509Certificate} from 'node:crypto'
import https from 'node:https'
import type {TLSSocket} from 'node:tls'

export interface Health {
  ok: boolean
  /** The certificate the server presented. */
  certificate: X509Certificate | undefined
}

/** /healthz answers `{"status":"ok"}`: a body longer than this is not homeauth's, and is not read on. */
const maxBodyBytes = 4096

/**
 * GET /healthz on a server's URL. Verification is off on purpose: the request carries no
 * credentials and the answer reveals nothing, and callers identify the server by the PID in
 * state.json; what is wanted is whether it answers, and which certificate it serves.
 * `timeoutMs` bounds the whole exchange, not each wait between bytes, so a server trickling its
 * answer cannot keep the caller waiting.
 */
export function probeHealth(url: string, timeoutMs = 3000): Promise<Health> {
  return new Promise((resolve) => {
    let certificate: X509Certificate | undefined
    const deadline = setTimeout(() => finish(false), timeoutMs)
    const request = https.get(
      new URL('healthz', url),
      // An empty `ca` spares parsing Node's bundled roots (≈ 30 ms): nothing is verified anyway.
      {rejectUnauthorized: false, agent: false, ca: []},
      (response) => {
        const raw = (response.socket as TLSSocket).getPeerCertificate().raw
        certificate = raw ? new X509Certificate(raw) : undefined
        const chunks: Buffer[] = []
        let bytes = 0
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length
          if (bytes > maxBodyBytes) finish(false)
          else chunks.push(chunk)
        })
        response.on('end', () =>
          finish(response.statusCode === 200 && Buffer.concat(chunks).toString('utf8').includes('"ok"')),
        )
      },
    )
    request.on('error', () => finish(false))

    function finish(ok: boolean): void {
      clearTimeout(deadline)
      request.destroy()
      resolve({ok, certificate})
    }
  })
}
