import {X509Certificate} from 'node:crypto'
import {promises as fs} from 'node:fs'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {defaultPort, readConfig} from '../config/config.js'
import {checkCredential, givenPassword, givenUsername, noTerminal} from '../credentials/sources.js'
import {errorCode, setupError, usageError} from '../errors.js'
import {credentialFlags} from '../flags.js'
import {configPath} from '../paths.js'
import {findRunningServer} from '../server/state.js'
import {canPrompt, prompts} from '../ui/prompts.js'
import * as render from '../ui/render.js'

export default class FetchSecret extends BaseCommand<typeof FetchSecret> {
  static summary = 'Read the secret from a homeauth server, as curl -u would.'
  static description = `Prints the message alone on stdout, so $(homeauth fetch-secret) works.
URL, CA and user name come from the config directory (a running server's URL from state.json first); flags and the environment override them. The password comes from -p, --password-stdin or HOMEAUTH_PASSWORD, else a masked prompt on a terminal.
Exit codes: 0 success, 2 bad flags, 3 server not running or not reachable, 4 credentials rejected, 5 throttled, 6 certificate not trusted or host name mismatch, 7 timed out, 8 no CA or config to use, 10 not the expected answer.`

  static enableJsonFlag = true

  static examples = [
    'HOMEAUTH_PASSWORD=ELO <%= config.bin %> <%= command.id %>',
    'printf %s "$PASSWORD" | <%= config.bin %> <%= command.id %> --url https://pi.local:8443 --ca ./ca.pem -u JeffLynne --password-stdin',
    '<%= config.bin %> <%= command.id %> --json --timeout 3',
  ]

  static flags = {
    url: Flags.string({description: 'Base URL (then /api/secret is added) or the full endpoint.'}),
    ...credentialFlags(''),
    ca: Flags.string({
      description: "CA certificate (PEM) to trust. [default: the config directory's ca.pem]",
    }),
    insecure: Flags.boolean({description: 'Do not verify the server certificate at all (says so loudly).'}),
    timeout: Flags.string({
      description: 'Give up after this many seconds (decimals allowed).',
      default: '10',
    }),
  }

  public async run(): Promise<{message: string}> {
    const {flags} = this
    render.visibleSecretWarnings(flags)
    const timeoutMs = secondsToMs(flags.timeout)
    const config = await readConfig(this.configDir)
    const {endpointUrl, fetchSecret} = await import('../client/fetch-secret.js')
    const running = flags.url === undefined ? await findRunningServer(this.configDir) : undefined
    const url = endpointUrl(flags.url ?? running?.url ?? `https://localhost:${config?.port ?? defaultPort}/`)

    const caFile = flags.ca ?? configPath(this.configDir, 'caCert')
    const ca = flags.insecure ? undefined : await readCa(caFile, flags.ca !== undefined)
    if (flags.insecure)
      render.warning(
        '--insecure: the server certificate is NOT verified; anyone on the network could pose as the server.',
      )

    const inputs = {
      ...flags,
      passwordStdin: flags['password-stdin'],
      env: process.env,
      stdin: process.stdin,
      prompts,
    }
    const username = givenUsername(inputs)?.value ?? config?.username
    if (username === undefined)
      throw usageError('No user name given.', [
        'Pass --username, set HOMEAUTH_USERNAME, or run homeauth init.',
      ])
    let password = (await givenPassword(inputs))?.value
    if (password === undefined) {
      if (!canPrompt()) throw noTerminal('password', 'Pass --password-stdin or set HOMEAUTH_PASSWORD.')
      password = checkCredential(
        'password',
        await prompts.password(`Password for ${username} at ${url.host}`),
      )
    }

    const message = await fetchSecret({
      url,
      ca,
      caFile,
      credentials: {username, password},
      insecure: flags.insecure,
      timeoutMs,
    })
    if (!this.jsonEnabled()) render.secret(message)
    return {message}
  }
}

async function readCa(file: string, given: boolean): Promise<string> {
  let pem: string
  try {
    pem = await fs.readFile(file, 'utf8')
  } catch (error) {
    const reason =
      errorCode(error) === 'ENOENT' ? 'does not exist' : `cannot be read (${errorCode(error) ?? 'error'})`
    throw setupError(`The CA file ${file} ${reason}.`, [
      given
        ? 'Check the path given to --ca.'
        : 'Pass the server’s ca.pem with --ca, or run homeauth init on this machine.',
    ])
  }
  try {
    new X509Certificate(pem)
  } catch {
    throw setupError(`The CA file ${file} does not hold a PEM certificate.`, [
      'Pass the server’s ca.pem with --ca.',
    ])
  }
  return pem
}

function secondsToMs(input: string): number {
  const seconds = Number(input)
  if (input.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw usageError(`--timeout must be a number of seconds above 0, not ${JSON.stringify(input)}.`)
  }
  return seconds * 1000
}
