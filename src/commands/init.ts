import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {defaultPort} from '../config/stored-settings.js'
import {allowShortPasswordFlag, credentialFlags, qrFlag, sanFlag, secretFlags} from '../cli/flags.js'
import {onboardingUrls} from '../server/onboarding-urls.js'
import {describeReplacement, readExistingSetup, resolveInitAnswers} from '../setup/answers.js'
import type {InitResult} from '../setup/init.js'
import {printVisibleSecretWarnings} from '../ui/messages.js'
import {printInitSummary} from '../ui/setup-summary.js'

export type InitJson = Omit<InitResult, 'caKept' | 'caReplaced' | 'signalledServer'>

export default class Init extends BaseCommand<typeof Init> {
  static summary = 'Set up credentials, the secret, the port and the certificates.'
  static description = `Asks for a user name, a password (stored only as a scrypt hash), the secret message, the port and extra host names, then makes the local CA (kept if one exists) and a server certificate.
A new CA may vouch only for the home: this machine's names, localhost, .home.arpa, .lan, .internal, the --san names and private addresses. A kept CA refuses --san names outside its constraints: --new-ca makes one that includes them.
Every question has a flag; without a terminal, missing answers are an error (or --yes takes the defaults).
On a re-run the current values are the defaults, and an empty password keeps the stored one.
On a re-run the user name and password are about one stored user (the first, unless another's name is given); a name no user has is refused, as it is by passwd ("user add" it, then "user remove" the old one to rename). Users added with "user add" are kept.`

  static enableJsonFlag = true

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    'printf %s "$PASSWORD" | <%= config.bin %> <%= command.id %> --username JeffLynne --password-stdin --yes',
    '<%= config.bin %> <%= command.id %> --force --san pi.home.arpa --san 192.168.1.20',
  ]

  static flags = {
    ...credentialFlags(''),
    'allow-short-password': allowShortPasswordFlag,
    ...secretFlags,
    port: Flags.integer({
      description: `Port the server listens on. [default: the current one on a re-run, else ${defaultPort}]`,
      min: 1,
      max: 65535,
    }),
    san: sanFlag,
    yes: Flags.boolean({
      char: 'y',
      description: 'Accept the defaults for questions no flag answers (does not confirm --force).',
    }),
    force: Flags.boolean({
      description: 'Replace an existing configuration without asking (the CA is kept unless --new-ca).',
    }),
    'new-ca': Flags.boolean({
      description:
        "Make a new CA too, constrained to the home's names and addresses and the --san names (every device must trust the new one).",
    }),
    qr: qrFlag,
  }

  public async run(): Promise<InitJson> {
    const {flags} = this
    printVisibleSecretWarnings(this.output, flags)
    const existing = await readExistingSetup(this.configDir)
    const replacement = describeReplacement(this.configDir, existing, flags['new-ca'])
    if (replacement && !flags.force) {
      if (!(await this.promptsOr(replacement.refusal).confirm(replacement.question))) {
        this.logToStderr('Nothing changed.')
        return this.exit(0)
      }
    }
    const answers = await resolveInitAnswers({
      ...flags,
      ...this.credentialInputs(flags),
      secretFile: flags['secret-file'],
      newCa: flags['new-ca'],
      allowShortPassword: flags['allow-short-password'],
      current: existing.config,
    })
    const {initialize} = await import('../setup/init.js')
    const result = await initialize(this.configDir, answers)
    if (!this.jsonEnabled()) {
      await printInitSummary(this.output, result, flags.qr ? onboardingUrls(result.port) : undefined)
    }
    const {configDir, caFile, caFingerprint, caConstrained, username, port, hosts} = result
    return {configDir, caFile, caFingerprint, caConstrained, username, port, hosts}
  }
}
