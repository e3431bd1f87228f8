import http from 'node:http'

import {ExitCode, HomeauthError, errorCode} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import {controlPaths, type ClientsReport, type UnlockReport, type UnlockRequest} from '../web/control.js'
import {findRunningServer} from './state.js'

/** How long the control channel may take to answer: it answers from memory, at once. */
const controlTimeoutMs = 5000

/** The control socket of the server running on `configDir`; a clear error when there is none. */
async function controlSocket(configDir: string): Promise<{pid: number; socketPath: string}> {
  const state = await findRunningServer(configDir)
  if (!state) {
    throw new HomeauthError('homeauth is not running.', {
      exitCode: ExitCode.notRunning,
      suggestions: [`Start it with: ${homeauthCommand('serve')}`],
    })
  }
  if (!state.control) {
    throw new HomeauthError(
      `The running server (PID ${state.pid}) was started by an older homeauth, which has no control channel to ask who is locked out.`,
      {exitCode: ExitCode.notRunning, suggestions: ['Restart it with this version, then ask again.']},
    )
  }
  return {pid: state.pid, socketPath: state.control}
}

/** One request to the control channel, its JSON answer parsed; the server's refusal is exit 10. */
async function askServer<T>(configDir: string, method: string, path: string, body?: unknown): Promise<T> {
  const {pid, socketPath} = await controlSocket(configDir)
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const answer = await new Promise<{status: number; text: string}>((resolve, reject) => {
    const request = http.request(
      {socketPath, method, path, headers: payload ? {'Content-Type': 'application/json'} : {}},
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        response.on('end', () => resolve({status: response.statusCode ?? 0, text}))
        response.on('error', reject)
      },
    )
    request.setTimeout(controlTimeoutMs, () =>
      request.destroy(
        new HomeauthError(`The running server (PID ${pid}) did not answer on ${socketPath} in time.`, {
          exitCode: ExitCode.timedOut,
        }),
      ),
    )
    request.on('error', (error) => {
      if (error instanceof HomeauthError) return reject(error)
      reject(
        new HomeauthError(
          `Cannot reach the running server (PID ${pid}) on ${socketPath}: ${errorCode(error) ?? error.message}.`,
          {
            exitCode: ExitCode.notRunning,
            suggestions: ['Run this as the user the server runs as; if it is, restart the server.'],
            cause: error,
          },
        ),
      )
    })
    request.end(payload)
  })
  const parsed = parseJson(answer.text) as (T & {message?: unknown}) | undefined
  if (answer.status === 200 && parsed !== undefined) return parsed
  const said = typeof parsed?.message === 'string' ? parsed.message : 'not the JSON homeauth sends'
  throw new HomeauthError(`The running server's control socket answered ${answer.status}: ${said}`, {
    exitCode: ExitCode.unexpectedResponse,
  })
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** Who the running server has locked out, and who signed in last. */
export function lockedOutClients(configDir: string): Promise<ClientsReport> {
  return askServer(configDir, 'GET', controlPaths.clients)
}

/** Lifts the lockout of `client` (see parseClientTarget) on the running server at once. */
export function unlockClient(configDir: string, client: string): Promise<UnlockReport> {
  return askServer(configDir, 'POST', controlPaths.unlock, {client} satisfies UnlockRequest)
}
