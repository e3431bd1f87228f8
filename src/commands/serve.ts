import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {credentialFlags, qrFlag, secretFlags, serveSettingFlags} from '../cli/flags.js'
import {resolveSecret} from '../config/secret.js'
import {givenSettings, resolveServeSettings} from '../config/serve-settings.js'
import {resolveCredentials} from '../credentials/sources.js'
import {reportStartFailure} from '../daemon/failure-report.js'
import {RotatingLog} from '../daemon/log-file.js'
import {findOnboardingUrls, onboardingUrls} from '../server/onboarding-urls.js'
import {printDetached} from '../ui/daemon.js'
import {printVisibleSecretWarnings, printWarning} from '../ui/messages.js'
import {createLogFileOutput, type Output} from '../ui/output.js'
import {ServerLog} from '../ui/server-log.js'

export default class Serve extends BaseCommand<typeof Serve> {
  static summary = 'Start the protected HTTPS server.'
  static description = `Serves a page (/) and a JSON endpoint (/api/secret) over HTTPS, behind HTTP Basic auth.
Without --cert/--key, a local CA and a server certificate are made in the config directory on first use and reused after.
Credentials come from -u/-p (or --password-stdin), else HOMEAUTH_USERNAME and HOMEAUTH_PASSWORD (both set), else the hash stored by init, else a prompt on a terminal.
After init, every flag is optional: the secret and the settings stored by init and settings set (port, host names, --auth-listen, --trust-proxy, …) come from the config; a flag given here wins for this run only (--san adds to the stored names).
SIGHUP (sent by passwd, user add, user remove and cert renew) reloads the stored users and the certificate.`

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --username JeffLynne --password ELO',
    'printf %s "$PASSWORD" | <%= config.bin %> <%= command.id %> --username JeffLynne --password-stdin',
    '<%= config.bin %> <%= command.id %> --port 0 --secret-file ./message.txt',
  ]

  static flags = {
    ...credentialFlags(' to accept'),
    secret: secretFlags.secret,
    ...serveSettingFlags,
    qr: qrFlag,
    detach: Flags.boolean({
      description: 'Run in the background (log: serve.log in the config directory); returns once it answers.',
    }),
    'log-file': Flags.string({
      hidden: true,
      description: 'Log here instead of the terminal (used by --detach).',
    }),
  }

  /** Set when --log-file is given: everything, failures included, then goes to that file. */
  private logFileOutput?: Output

  protected override get output(): Output {
    return this.logFileOutput ?? super.output
  }

  public async run(): Promise<void> {
    const {flags} = this
    if (flags['log-file']) this.logFileOutput = createLogFileOutput(new RotatingLog(flags['log-file']))
    const {output} = this
    printVisibleSecretWarnings(output, flags)
    const resolved = await resolveServeSettings({
      configDir: this.configDir,
      given: givenSettings(flags),
      secret: flags.secret,
      logFile: flags['log-file'],
    })
    const {config} = resolved
    const {credentials, usernames, source} = await resolveCredentials({
      ...this.credentialInputs(flags),
      storedUsernames: config?.users.map((user) => user.name),
      warn: (message) => printWarning(output, message),
    })
    const secret = await resolveSecret({
      secret: resolved.secret,
      secretFile: resolved.secretFile,
      env: process.env,
      stored: config?.secret,
    })
    if (flags.detach) {
      const {startDetached} = await import('../daemon/detach.js')
      const commandLine = {definitions: Serve.flags, values: flags}
      const detached = await startDetached(resolved, commandLine, {credentials, env: process.env})
      return printDetached(output, detached, flags.qr ? await findOnboardingUrls(this.configDir) : undefined)
    }
    const {startHomeauth, serveUntilSignal} = await import('../server/serve.js')
    const log = new ServerLog(output)
    try {
      const server = await startHomeauth({...resolved, credentials, secret, ...log.events})
      const {host, port} = server.listener
      log.banner({
        ...server,
        usernames,
        credentialSource: source,
        realm: resolved.realm,
        onboarding: flags.qr ? onboardingUrls(port, host) : undefined,
      })
      log.stopped(await serveUntilSignal(server, log.events.onReloadFailed))
    } finally {
      log.close()
    }
  }

  /** A background server (serve --detach) also reports its failure to the process that started it. */
  protected override fail(
    code: number,
    message: string,
    suggestions: string[],
    printText?: () => void,
  ): never {
    reportStartFailure(process.env, {exitCode: code, message, suggestions})
    return super.fail(code, message, suggestions, printText)
  }
}
