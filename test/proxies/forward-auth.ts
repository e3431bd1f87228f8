import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {request} from '../helpers/https.js'
import {owner, startProxyStack, type AuthPath, type ProxyKind, type ProxyStack} from '../helpers/proxies.js'

const maxFailures = 3
/** What each proxy answers when it cannot get a verdict from homeauth, as docs/forward-auth.md says. */
const failClosedStatus: Record<ProxyKind, number> = {caddy: 502, nginx: 503}
const wrong = {username: owner.username, password: 'not the password'}

/**
 * Each client of a test has its own loopback address (127.0.0.2 and up): the proxy reports it in
 * X-Forwarded-For, and homeauth, trusting the proxy at 127.0.0.1, throttles per address.
 */
let lastClient = 1
const nextClient = () => `127.0.0.${++lastClient}`

/** The behaviour of homeauth's /auth through the documented recipe for `proxy`, asked over `authPath`. */
export function describeForwardAuth(proxy: ProxyKind, authPath: AuthPath) {
  describe(`${proxy} asking homeauth over ${authPath === 'https' ? 'its HTTPS port, trusting its CA' : '--auth-listen'}`, () => {
    let stack: ProxyStack
    beforeAll(async () => {
      stack = await startProxyStack(proxy, authPath, {maxFailures})
    }, 60_000)
    afterAll(async () => stack?.stop(), 30_000)

    it('answers 401 with the Basic challenge when no credentials are sent, without reaching the app', async () => {
      const before = stack.upstream.requests.length
      const response = await request(`${stack.sites.open}/lights`, {localAddress: nextClient()})
      expect(response.status).toBe(401)
      expect(response.headers['www-authenticate']).toBe('Basic realm="homeauth", charset="UTF-8"')
      expect(stack.upstream.requests.length).toBe(before)
    })

    it('passes the request to the app with Remote-User, and without the password, for the right password', async () => {
      // The page's own `user=` is the app's business: it must not reach /auth as a ?user= restriction.
      const response = await request(`${stack.sites.open}/lights?room=kitchen&user=alice`, {
        auth: owner,
        localAddress: nextClient(),
      })
      expect(response.status).toBe(200)
      expect(JSON.parse(response.body)).toEqual({
        app: 'upstream',
        path: '/lights?room=kitchen&user=alice',
        remoteUser: [owner.username],
        authorization: false,
      })
    })

    it('answers 401 to a wrong password, then 429 with Retry-After for that client only', async () => {
      const guesser = nextClient()
      const before = stack.upstream.requests.length
      for (let attempt = 0; attempt < maxFailures; attempt++) {
        const response = await request(`${stack.sites.open}/`, {auth: wrong, localAddress: guesser})
        expect(response.status).toBe(401)
        expect(response.headers['www-authenticate']).toContain('Basic realm="homeauth"')
      }
      const throttled = await request(`${stack.sites.open}/`, {auth: owner, localAddress: guesser})
      expect(throttled.status).toBe(429)
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0)
      // Its own X-Forwarded-For does not make the guesser someone else: the proxy adds or sets the real address.
      const disguised = await request(`${stack.sites.open}/`, {
        auth: owner,
        localAddress: guesser,
        headers: {'x-forwarded-for': '198.51.100.7'},
      })
      expect(disguised.status).toBe(429)
      expect(stack.upstream.requests.length).toBe(before)

      const neighbour = await request(`${stack.sites.open}/`, {auth: owner, localAddress: nextClient()})
      expect(neighbour.status).toBe(200)
      expect(JSON.parse(neighbour.body)).toMatchObject({remoteUser: [owner.username]})
    })

    it('never passes a client-sent Remote-User on as if signed in', async () => {
      const before = stack.upstream.requests.length
      const unsigned = await request(`${stack.sites.open}/`, {
        headers: {'remote-user': owner.username},
        localAddress: nextClient(),
      })
      expect(unsigned.status).toBe(401)
      expect(stack.upstream.requests.length).toBe(before)

      const replaced = await request(`${stack.sites.open}/`, {
        auth: owner,
        headers: {'remote-user': 'admin'},
        localAddress: nextClient(),
      })
      expect(replaced.status).toBe(200)
      expect(JSON.parse(replaced.body)).toMatchObject({remoteUser: [owner.username]})
    })

    it('answers 403 to a valid user that ?user= does not name, and lets in one it names', async () => {
      const before = stack.upstream.requests.length
      const refused = await request(`${stack.sites.othersOnly}/`, {auth: owner, localAddress: nextClient()})
      expect(refused.status).toBe(403)
      expect(stack.upstream.requests.length).toBe(before)

      const admitted = await request(`${stack.sites.ownerIncluded}/`, {
        auth: owner,
        localAddress: nextClient(),
      })
      expect(admitted.status).toBe(200)
      expect(JSON.parse(admitted.body)).toMatchObject({remoteUser: [owner.username]})
    })

    // Only where the proxy reaches homeauth over TLS: --auth-listen is plain HTTP on loopback.
    if (authPath === 'https') {
      it(`fails closed with ${failClosedStatus[proxy]} when the proxy does not trust homeauth's certificate`, async () => {
        const before = stack.upstream.requests.length
        const response = await request(`${stack.sites.publicCasOnly}/`, {
          auth: owner,
          localAddress: nextClient(),
        })
        expect(response.status).toBe(failClosedStatus[proxy])
        expect(stack.upstream.requests.length).toBe(before)
      })
    }

    // Last: it stops homeauth for the rest of this proxy's tests.
    it(`fails closed with ${failClosedStatus[proxy]}, never the app, once homeauth has stopped`, async () => {
      await stack.stopHomeauth()
      const before = stack.upstream.requests.length
      for (const site of Object.values(stack.sites) as string[]) {
        const response = await request(`${site}/`, {auth: owner, localAddress: nextClient()})
        expect(response.status).toBe(failClosedStatus[proxy])
        expect(response.body).not.toContain('upstream')
      }
      expect(stack.upstream.requests.length).toBe(before)
    })
  })
}
