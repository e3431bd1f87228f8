import {Command, Flags, type Interfaces} from '@oclif/core'

import {ExitCode, HomeauthError} from './errors.js'
import {isPromptCancelled} from './ui/prompts.js'
import {failure} from './ui/render.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>

/** What every homeauth command shares: the config directory flag and the mapping of errors to exit codes. */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static baseFlags = {
    'config-dir': Flags.string({
      description: 'Directory for the configuration, CA and certificates.',
      env: 'HOMEAUTH_CONFIG_DIR',
      helpGroup: 'GLOBAL',
    }),
  }

  protected flags!: CommandFlags<T>

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
  }

  /** --config-dir, else HOMEAUTH_CONFIG_DIR, else oclif's config directory (XDG: ~/.config/homeauth). */
  protected get configDir(): string {
    return this.flags['config-dir'] ?? this.config.configDir
  }

  /**
   * Domain errors get their one sentence, suggestions and the exit code from the table (in --json
   * mode too, where oclif would exit 1); parse errors keep oclif's exit 2; anything else is a bug,
   * exit 1, with its stack only when DEBUG is set.
   */
  protected override async catch(error: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    if (isPromptCancelled(error)) {
      this.logToStderr('Cancelled.')
      return this.exit(130)
    }
    if (error instanceof HomeauthError) {
      if (this.jsonEnabled()) {
        this.logJson({error: {code: error.exitCode, message: error.message, suggestions: error.suggestions}})
        return this.exit(error.exitCode)
      }
      failure(error.message, error.suggestions)
      return this.exit(error.exitCode)
    }
    if (error.oclif?.exit !== undefined) throw error
    if (process.env.DEBUG) this.logToStderr(error.stack ?? String(error))
    if (this.jsonEnabled()) {
      this.logJson({error: {code: ExitCode.unexpected, message: error.message, suggestions: []}})
      return this.exit(ExitCode.unexpected)
    }
    failure(`Unexpected failure: ${error.message}`, [
      'Run again with DEBUG=1 to see the stack trace, and report it.',
    ])
    return this.exit(ExitCode.unexpected)
  }
}
