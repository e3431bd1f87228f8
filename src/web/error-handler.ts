import type {ErrorRequestHandler} from 'express'

/**
 * The last middleware of every app, in place of express's default handler, which prints stack traces
 * into responses outside production: client errors get a short 4xx, anything else is reported as a
 * bug through `onError` and answered 500.
 */
export function answerErrors(onError?: (error: Error) => void): ErrorRequestHandler {
  return function answerError(error: Error & {status?: number; statusCode?: number}, _req, res, _next) {
    const status = error.status ?? error.statusCode ?? 500
    const clientError = status >= 400 && status < 500
    if (!clientError) onError?.(error)
    if (res.headersSent) return void res.destroy()
    res.status(clientError ? status : 500).json({message: clientError ? 'Bad request.' : 'Internal error.'})
  }
}
