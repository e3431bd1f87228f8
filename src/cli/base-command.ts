import {stripVTControlCharacters} from 'node:util'

import {Command, Errors, Flags, ux, type Interfaces} from '@oclif/core'

import {checkConfigDir} from '../config/files.js'
import {ExitCode, HomeauthError, errorDocument} from '../errors.js'
import type {CredentialInputs} from '../credentials/sources.js'
import {homeauthCommand, keepConfigDirInHints} from '../invocation.js'
import type {Prompts} from '../prompts.js'
import {isPromptCancelled, terminalPromptsFor} from './prompts.js'
import {printFailure} from '../ui/messages.js'
import {createTerminalOutput, type Output} from '../ui/output.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>

/**
 * What every homeauth command shares: the config directory flag, checked before any command reads
 * it (see `checkConfigDir`), and the mapping of errors to exit codes.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static baseFlags = {
    'config-dir': Flags.string({
      description: 'Directory for the configuration, CA and certificates.',
      env: 'HOMEAUTH_CONFIG_DIR',
      helpGroup: 'GLOBAL',
    }),
  }

  protected flags!: CommandFlags<T>
  private terminalOutput?: Output

  public override async init(): Promise<void> {
    await super.init()
    const {flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    keepConfigDirInHints(this.flags['config-dir'], this.config.configDir)
    await this.checkConfigDirectory()
  }

  /** Checks the config directory before the command reads it (see `checkConfigDir`). */
  protected async checkConfigDirectory(): Promise<void> {
    await checkConfigDir(this.configDir)
  }

  /** --config-dir, else HOMEAUTH_CONFIG_DIR, else oclif's config directory (XDG: ~/.config/homeauth). */
  protected get configDir(): string {
    return this.flags['config-dir'] ?? this.config.configDir
  }

  /** Where the command writes: stdout and stderr, each coloured only when it is a terminal. */
  protected get output(): Output {
    return (this.terminalOutput ??= createTerminalOutput(process.stdout, process.stderr))
  }

  /**
   * The questions this command may ask: present only when stdin is a terminal, so a command or a
   * module handed them never prompts where nobody can answer.
   */
  protected get prompts(): Prompts | undefined {
    return terminalPromptsFor(process.stdin)
  }

  /** The prompts, or `noTerminal` thrown when stdin is not a terminal to ask at. */
  protected promptsOr(noTerminal: Error): Prompts {
    const {prompts} = this
    if (!prompts) throw noTerminal
    return prompts
  }

  /** The -u/-p/--password-stdin flags with this process's environment, stdin and prompts. */
  protected credentialInputs(flags: {
    username?: string
    password?: string
    'password-stdin'?: boolean
  }): CredentialInputs {
    return {
      username: flags.username,
      password: flags.password,
      passwordStdin: flags['password-stdin'],
      env: process.env,
      stdin: process.stdin,
      prompts: this.prompts,
    }
  }

  /**
   * A new password for `username` from -p, --password-stdin or HOMEAUTH_PASSWORD, else asked twice at
   * a terminal; without one, a usage error naming the flags.
   */
  protected async newPassword(
    flags: {password?: string; 'password-stdin'?: boolean},
    username: string,
    allowShort: boolean,
  ): Promise<string> {
    // Imported here, not at the top: only the commands that set a password load them at start-up.
    const {givenNewPassword, noTerminalError} = await import('../credentials/sources.js')
    const {askNewPassword} = await import('../credentials/new-password.js')
    const given = await givenNewPassword(this.credentialInputs(flags), allowShort)
    if (given !== undefined) return given
    const prompts = this.promptsOr(
      noTerminalError('password', 'Pass --password-stdin or set HOMEAUTH_PASSWORD.'),
    )
    return askNewPassword(prompts, username, {allowShort})
  }

  /**
   * Every failure leaves through here with the exit code from the table: domain errors with their
   * sentence and suggestions, oclif's parse errors with exit 2 (their usage text in a terminal),
   * Ctrl+C at a prompt with 130, anything else as a bug, exit 1, its stack only when DEBUG is set.
   * With --json each is one `{"error": …}` document on stdout, where oclif would print text or exit 1.
   */
  protected override async catch(error: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error
    if (isPromptCancelled(error)) {
      return this.fail(ExitCode.cancelled, 'Cancelled.', [], () => this.logToStderr('Cancelled.'))
    }
    if (error instanceof HomeauthError) return this.fail(error.exitCode, error.message, error.suggestions)
    if (error.oclif?.exit !== undefined) {
      if (!this.jsonEnabled()) throw error
      return this.fail(error.oclif.exit, parseErrorMessage(error), [
        `Run: ${homeauthCommand(`${this.id?.replaceAll(':', this.config.topicSeparator)} --help`, false)}`,
      ])
    }
    if (process.env.DEBUG) ux.stderr(error.stack ?? String(error))
    return this.fail(ExitCode.unexpected, `Unexpected failure: ${error.message}`, [
      'Run again with DEBUG=1 to see the stack trace, and report it.',
    ])
  }

  /** Prints a failure (as JSON on stdout with --json, else as text on stderr) and exits with `code`. */
  protected fail(
    code: number,
    message: string,
    suggestions: string[],
    printText = () => printFailure(this.output, message, suggestions),
  ): never {
    if (this.jsonEnabled()) this.logJson(errorDocument(code, message, suggestions))
    else printText()
    return this.exit(code)
  }
}

/** oclif's parse error as one line: no colour, no "The following error occurred:" header, no "See more help" line. */
function parseErrorMessage(error: Error): string {
  return stripVTControlCharacters(error.message)
    .split('\n')
    .map((line) => line.trim())
    .filter(
      (line) => line !== '' && !/^The following errors? occurred:$|^See more help with --help$/.test(line),
    )
    .join(' ')
}
