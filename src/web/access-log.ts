import type {NextFunction, Request, RequestHandler, Response} from 'express'

export interface AccessLogEntry {
  method: string
  path: string
  status: number
  ms: number
  /** The user name the client presented, or undefined. */
  user: string | undefined
  /** The device that signed in with its own password (`device add`), if one did. */
  device?: string
  /** Set for a request that came as plain HTTP rather than over TLS. */
  plainHttp?: true
}

/** The request target without its query. */
export function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/** Calls `write` once per request, when its response has been sent or the client has gone. */
export function accessLog(write: (entry: AccessLogEntry) => void): RequestHandler {
  return function logRequest(req: Request, res: Response, next: NextFunction) {
    const started = performance.now()
    // A response emits 'close' once, either way: one plain listener, no once() wrapper.
    res.on('close', () => {
      write({
        method: req.method,
        path: pathOf(req.originalUrl),
        status: res.statusCode,
        ms: performance.now() - started,
        user: res.locals.user as string | undefined,
        device: res.locals.device as string | undefined,
      })
    })
    next()
  }
}
