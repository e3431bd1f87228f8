import {readConfig} from '../config/config.js'
import type {Credentials} from '../credentials/credentials.js'
import {
  checkCredential,
  givenPassword,
  givenUsername,
  noTerminalError,
  type CredentialInputs,
} from '../credentials/sources.js'
import {usageError} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import {configPath} from '../paths.js'
import {readCa} from './ca.js'
import {resolveEndpoint} from './endpoint.js'
import {secretFromAnswer, transportFailure} from './failures.js'
import {getWithBasicAuth, type Answer, type SecretRequest} from './request.js'

export interface FetchOptions extends SecretRequest {
  /** Where `ca` came from, for messages. */
  caFile?: string
}

/** GET /api/secret with Basic auth, trusting exactly the given CA; returns the message or throws a HomeauthError. */
export async function fetchSecret(options: FetchOptions): Promise<string> {
  let answer: Answer
  try {
    answer = await getWithBasicAuth(options)
  } catch (error) {
    throw await transportFailure(error as Error, options)
  }
  return secretFromAnswer(answer, {url: options.url, username: options.credentials.username})
}

export interface FetchSecretInputs extends Omit<CredentialInputs, 'storedUsernames'> {
  configDir: string
  /** --url: a base URL or the full endpoint. */
  url?: string
  /** --ca: the CA file to trust instead of the config directory's ca.pem. */
  ca?: string
  /** --insecure */
  insecure?: boolean
  /** --timeout: seconds, as typed. */
  timeout: string
}

/**
 * `homeauth fetch-secret`: finds the endpoint, the CA and the credentials (flags, then the
 * environment, then the config directory, then a prompt on a terminal) and fetches the message.
 */
export async function fetchSecretFor(inputs: FetchSecretInputs): Promise<string> {
  const timeoutMs = secondsToMs(inputs.timeout)
  const config = await readConfig(inputs.configDir)
  const url = await resolveEndpoint({
    configDir: inputs.configDir,
    url: inputs.url,
    configPort: config?.serve.port,
  })
  const caFile = inputs.ca ?? configPath(inputs.configDir, 'caCert')
  const ca = inputs.insecure ? undefined : await readCa(caFile, inputs.ca !== undefined)
  // Without --username, the first stored user: the one init made.
  const credentials = await clientCredentials(inputs, config?.users[0]?.name, url)
  return fetchSecret({url, ca, caFile, credentials, insecure: inputs.insecure, timeoutMs})
}

/**
 * fetch-secret's own rule: the user name from -u, else HOMEAUTH_USERNAME, else the config's; the
 * password from -p, --password-stdin or HOMEAUTH_PASSWORD, else a prompt on a terminal.
 */
async function clientCredentials(
  inputs: FetchSecretInputs,
  storedUsername: string | undefined,
  url: URL,
): Promise<Credentials> {
  const username = givenUsername(inputs)?.value ?? storedUsername
  if (username === undefined)
    throw usageError('No user name given.', [
      `Pass --username, set HOMEAUTH_USERNAME, or run ${homeauthCommand('init')}.`,
    ])
  const password = (await givenPassword(inputs))?.value
  if (password !== undefined) return {username, password}
  if (!inputs.prompts) throw noTerminalError('password', 'Pass --password-stdin or set HOMEAUTH_PASSWORD.')
  return {
    username,
    password: checkCredential(
      'password',
      await inputs.prompts.password(`Password for ${username} at ${url.host}`),
    ),
  }
}

function secondsToMs(input: string): number {
  const seconds = Number(input)
  if (input.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw usageError(`--timeout must be a number of seconds above 0, not ${JSON.stringify(input)}.`)
  }
  return seconds * 1000
}
