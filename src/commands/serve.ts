import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {credentialFlags, qrFlag, sanFlag, secretFlags} from '../cli/flags.js'
import {defaultPort} from '../config/config.js'
import {resolveSecret} from '../config/secret.js'
import {resolveServeSettings, type ServeSettings} from '../config/serve-settings.js'
import {resolveCredentials} from '../credentials/sources.js'
import {defaultRealm} from '../web/basic-auth.js'
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
After init, every flag is optional: port, secret and host names come from the config, and flags override them.
SIGHUP (sent by passwd, user add, user remove and cert renew) reloads the stored users and the certificate.`

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --username JeffLynne --password ELO',
    'printf %s "$PASSWORD" | <%= config.bin %> <%= command.id %> --username JeffLynne --password-stdin',
    '<%= config.bin %> <%= command.id %> --port 0 --secret-file ./message.txt',
  ]

  static flags = {
    ...credentialFlags(' to accept'),
    port: Flags.integer({
      description: `Port to listen on (0 picks a free one). [default: the config's, else ${defaultPort}]`,
      min: 0,
      max: 65535,
    }),
    host: Flags.string({description: 'Address to listen on. [default: all interfaces, IPv6 and IPv4]'}),
    cert: Flags.string({
      description: 'Your own certificate (PEM) instead of the local CA’s.',
      dependsOn: ['key'],
    }),
    key: Flags.string({description: 'The private key (PEM) of --cert.', dependsOn: ['cert']}),
    san: sanFlag,
    ...secretFlags,
    realm: Flags.string({description: 'Basic auth realm shown by browsers.', default: defaultRealm}),
    'frame-ancestors': Flags.string({
      description: 'Origin allowed to embed the page, e.g. a dashboard (repeatable).',
      multiple: true,
    }),
    'max-failures': Flags.integer({
      description: 'Failed logins from one address that lock it out.',
      default: 5,
      min: 1,
    }),
    'failure-window': Flags.integer({
      description: 'Seconds over which failed logins are counted.',
      default: 900,
      min: 1,
    }),
    lockout: Flags.integer({
      description: 'Seconds of the first lockout; each further one doubles, up to 15 minutes.',
      default: 60,
      min: 1,
    }),
    'trust-proxy': Flags.string({
      description:
        'Address or CIDR range of your reverse proxy: its X-Forwarded-For names the client that failed logins count against (repeatable).',
      multiple: true,
    }),
    'auth-listen': Flags.string({
      description:
        'Also serve /auth alone over plain HTTP here, for a reverse proxy on this machine: 127.0.0.1:PORT, [::1]:PORT or a Unix socket path.',
    }),
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
    const settings: ServeSettings = {
      configDir: this.configDir,
      port: flags.port,
      host: flags.host,
      tlsFiles: flags.cert && flags.key ? {cert: flags.cert, key: flags.key} : undefined,
      extraHosts: flags.san ?? [],
      secret: flags.secret,
      secretFile: flags['secret-file'],
      realm: flags.realm,
      frameAncestors: flags['frame-ancestors'],
      throttle: {
        maxFailures: flags['max-failures'],
        windowMs: flags['failure-window'] * 1000,
        lockoutMs: flags.lockout * 1000,
      },
      trustProxy: flags['trust-proxy'] ?? [],
      logFile: flags['log-file'],
      authListen: flags['auth-listen'],
    }
    const resolved = await resolveServeSettings(settings)
    const {config} = resolved
    const {credentials, usernames, source} = await resolveCredentials({
      ...this.credentialInputs(flags),
      storedUsernames: config?.users.map((user) => user.name),
      warn: (message) => printWarning(output, message),
    })
    const secret = await resolveSecret({
      secret: settings.secret,
      secretFile: settings.secretFile,
      env: process.env,
      stored: config?.secret,
    })
    if (flags.detach) {
      const {startDetached} = await import('../daemon/detach.js')
      const commandLine = {definitions: Serve.flags, values: flags}
      const detached = await startDetached(settings, commandLine, {credentials, env: process.env})
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
        realm: flags.realm,
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
