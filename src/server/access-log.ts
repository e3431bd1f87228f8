import type {NextFunction, Request, RequestHandler, Response} from 'express'

export interface AccessLogEntry {
  method: string
  path: string
  status: number
  ms: number
  /** The user name the client presented, or undefined. */
  user: string | undefined
  /** Set for a request that came as plain HTTP rather than over TLS. */
  plainHttp?: true
}

/** Calls `write` once per request, when its response has been sent or the client has gone. */
export function accessLog(write: (entry: AccessLogEntry) => void): RequestHandler {
  return function logRequest(req: Request, res: Response, next: NextFunction) {
    const started = process.hrtime.bigint()
    res.once('close', () => {
      const path = req.originalUrl.split('?', 1)[0] ?? ''
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      write({
        method: req.method,
        path,
        status: res.statusCode,
        ms,
        user: res.locals.user as string | undefined,
      })
    })
    next()
  }
}
