import {certificateHosts, invalidHostProblem, parseExtraHosts} from '../certificates/hosts.js'
import {configExists, readConfig, serverPort, type HomeauthConfig} from '../config/config.js'
import {exists} from '../config/files.js'
import {defaultSecret, resolveSecret} from '../config/secret.js'
import {osUsername} from '../credentials/os-user.js'
import {
  givenNewPassword,
  givenUsername,
  noTerminalError,
  type CredentialInputs,
} from '../credentials/sources.js'
import {credentialProblem} from '../credentials/credentials.js'
import {askNewPassword} from '../credentials/new-password.js'
import {ExitCode, HomeauthError, usageError} from '../errors.js'
import {configPath} from '../paths.js'
import {initUser, initUserError, type InitAnswers} from './init.js'
import {findUser} from './users.js'

export interface InitInputs extends CredentialInputs {
  secret?: string
  secretFile?: string
  port?: number
  /** --san: extra hosts, added to the defaults. */
  san?: string[]
  /** --yes: take the default for every question no flag answers. */
  yes?: boolean
  newCa?: boolean
  /** --allow-short-password: store a new password shorter than the minimum. */
  allowShortPassword?: boolean
  /** The configuration a re-run replaces: its values are the defaults, and a hash is kept unless a new password is given. */
  current?: HomeauthConfig
}

/** What an earlier `init` or `serve` left in a config directory. */
export interface ExistingSetup {
  hasConfig: boolean
  /** The configuration when config.json could be read; undefined when it is missing or invalid (init then replaces it). */
  config: HomeauthConfig | undefined
  /** ca.pem is there: made by init, or by a serve without init. */
  hasAuthority: boolean
}

/** Looks at `configDir`; a config.json that is invalid or too open offers no defaults (init replaces it). */
export async function readExistingSetup(configDir: string): Promise<ExistingSetup> {
  const hasConfig = await configExists(configDir)
  const config = hasConfig
    ? await readConfig(configDir).catch((error: unknown) => {
        if (error instanceof HomeauthError && error.exitCode === ExitCode.invalidSetup) return undefined
        throw error
      })
    : undefined
  return {hasConfig, config, hasAuthority: await exists(configPath(configDir, 'caCert'))}
}

/**
 * What init is about to replace in `configDir`, if anything: the refusal for when there is no
 * terminal to ask (and no --force), and the question to ask at one.
 */
export function describeReplacement(
  configDir: string,
  existing: ExistingSetup,
  newCa: boolean,
): {refusal: HomeauthError; question: string} | undefined {
  const replacesAuthority = newCa && existing.hasAuthority
  const newAuthorityNote = 'every device must then trust the new one'
  if (existing.hasConfig) {
    return {
      refusal: usageError(`homeauth is already set up in ${configDir}.`, [
        replacesAuthority
          ? `Pass --force to replace the configuration and the CA (${newAuthorityNote}).`
          : 'Pass --force to replace the configuration (the CA is kept unless --new-ca).',
      ]),
      question: `Replace the configuration in ${configDir}? ${replacesAuthority ? `The CA is replaced too: ${newAuthorityNote}.` : 'The CA is kept.'}`,
    }
  }
  if (!replacesAuthority) return undefined
  return {
    refusal: usageError(`${configDir} already holds a CA, which --new-ca would replace.`, [
      `Pass --force to replace it (${newAuthorityNote}), or leave out --new-ca to keep it.`,
    ]),
    question: `Replace the CA in ${configDir}? Every device that trusts it must then trust the new one.`,
  }
}

const yesHint = 'Or pass --yes to accept the defaults for everything else.'

/** At the user name question of a re-run: why `name` cannot be its answer (see initUser), if it cannot. */
function unknownInitUserProblem(current: HomeauthConfig | undefined, name: string): string | undefined {
  if (!current || findUser(current, name)) return undefined
  const error = initUserError(current, name)
  return [error.message, ...error.suggestions].join(' ')
}

function parsePort(text: string): number | undefined {
  const port = Number(text.trim())
  return /^\d+$/.test(text.trim()) && port >= 1 && port <= 65535 ? port : undefined
}

function parseHosts(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((host) => host.toLowerCase())
    .filter(Boolean)
}

/**
 * Answers init's questions in the order oclif's own generator uses: flag, then environment, then
 * the default with --yes, then a prompt on a terminal. The defaults are the current configuration's
 * values when there is one, so accepting them all changes nothing. Without a terminal an unanswered
 * question is a usage error naming its flag; nothing ever waits for input that cannot come.
 */
export async function resolveInitAnswers(inputs: InitInputs): Promise<InitAnswers> {
  const {prompts, current} = inputs

  let username = givenUsername(inputs)?.value
  if (username === undefined) {
    const defaultUsername = current?.users[0]?.name ?? osUsername()
    if (inputs.yes) username = defaultUsername
    else if (!prompts)
      throw noTerminalError('user name', `Pass --username (or set HOMEAUTH_USERNAME). ${yesHint}`)
    else {
      const validate = (value: string) =>
        credentialProblem('user name', value) ?? unknownInitUserProblem(current, value) ?? true
      username = (await prompts.input('User name', defaultUsername, validate)).normalize('NFC')
    }
  }
  // Before the password is asked: a name that is no stored user's is refused (see initUser).
  if (current) initUser(current, username)

  const allowShort = inputs.allowShortPassword ?? false
  let password: InitAnswers['password'] | undefined = await givenNewPassword(inputs, allowShort)
  if (password === undefined) {
    const keep = current && {storedHash: initUser(current, username).passwordHash}
    if (keep && inputs.yes) password = keep
    else if (!prompts) {
      throw noTerminalError(
        'password',
        `Pass --password-stdin or set HOMEAUTH_PASSWORD.${keep ? ' Or pass --yes to keep the stored password.' : ''}`,
      )
    } else if (keep) {
      password = (await askNewPassword(prompts, username, {emptyKeepsCurrent: true, allowShort})) ?? keep
    } else password = await askNewPassword(prompts, username, {allowShort})
  }

  const secretGiven =
    inputs.secret !== undefined || inputs.secretFile !== undefined || inputs.env.HOMEAUTH_SECRET
  let secret: string
  if (secretGiven || inputs.yes) secret = await resolveSecret({...inputs, stored: current?.secret})
  else if (!prompts)
    throw noTerminalError(
      'secret message',
      `Pass --secret-file (or --secret, or set HOMEAUTH_SECRET). ${yesHint}`,
    )
  else
    secret = await prompts.input(
      'Secret message',
      current?.secret ?? defaultSecret,
      (value) => value.trim() !== '' || 'The message is empty.',
    )

  let port = inputs.port
  if (port === undefined) {
    if (inputs.yes) port = serverPort(current?.serve.port)
    else if (!prompts) throw noTerminalError('port', `Pass --port. ${yesHint}`)
    else {
      const validate = (value: string) =>
        parsePort(value) !== undefined || 'A port is a number from 1 to 65535.'
      port = parsePort(await prompts.input('Port', String(serverPort(current?.serve.port)), validate))!
    }
  }

  let extraHosts = inputs.san && parseExtraHosts(inputs.san)
  if (extraHosts === undefined) {
    if (inputs.yes) extraHosts = current?.serve.san ?? []
    else if (!prompts)
      throw noTerminalError('host names', `Pass --san for each extra host name or address. ${yesHint}`)
    else {
      const machineHosts = certificateHosts()
      const validate = (value: string) => invalidHostProblem(parseHosts(value)) ?? true
      const answer = await prompts.input(
        'Host names and IP addresses for the certificate (comma-separated; yours are added, these defaults stay)',
        certificateHosts(current?.serve.san).join(', '),
        validate,
      )
      extraHosts = parseHosts(answer).filter((host) => !machineHosts.includes(host))
    }
  }

  return {username, password, secret, port, extraHosts, newCa: inputs.newCa ?? false}
}
