import type {AccessLogEntry} from './access-log.js'
import type {FailedLogin} from './basic-auth.js'
import type {UntrustedProxy} from './forward-auth.js'
import type {UnencryptedCredentials} from './plain-http.js'

/** What a running server reports: the start-up hands these to its apps, and serve's log writes them. */
export interface ServerEvents {
  onRequest(entry: AccessLogEntry): void
  onError(error: Error): void
  /** Told what a reload (SIGHUP, or a check of the certificate's hosts and expiry) changed. */
  onReload(message: string): void
  /** A reload failed (SIGHUP, or a check of the certificate): the server goes on with what it had. */
  onReloadFailed(error: Error): void
  onFailedLogin(failure: FailedLogin): void
  /** A plain-HTTP request carried credentials (refused unread): its password has been exposed. */
  onUnencryptedCredentials(request: UnencryptedCredentials): void
  /** Told once, the first time a local address asks /auth with forwarding headers without being trusted. */
  onUntrustedProxy(proxy: UntrustedProxy): void
}
