import {Flags} from '@oclif/core'

import {settingDefaults, type StoredSettingName} from '../config/stored-settings.js'
import {minPasswordLength} from '../credentials/credentials.js'

/** -u/-p/--password-stdin, shared by serve, init and passwd so they read and document alike. */
export function credentialFlags(role: string) {
  return {
    username: Flags.string({char: 'u', description: `User name${role}. [env: HOMEAUTH_USERNAME]`}),
    password: Flags.string({
      char: 'p',
      description: `Password${role} (visible in ps: prefer --password-stdin). [env: HOMEAUTH_PASSWORD]`,
      exclusive: ['password-stdin'],
    }),
    'password-stdin': Flags.boolean({description: 'Read the password from the first line of stdin.'}),
  }
}

/** --allow-short-password, shared by the commands that store a new password (init, passwd). */
export const allowShortPasswordFlag = Flags.boolean({
  description: `Store a new password shorter than ${minPasswordLength} characters (for scripts that mean it).`,
})

/** --secret/--secret-file, shared by serve and init. */
export const secretFlags = {
  secret: Flags.string({
    description: 'The secret message (visible in ps). [env: HOMEAUTH_SECRET]',
    exclusive: ['secret-file'],
  }),
  'secret-file': Flags.string({description: 'Read the secret message from this file.'}),
}

/** --san, shared by serve, init and cert renew. */
export const sanFlag = Flags.string({
  description: 'Extra host name or IP address for the certificate (repeatable).',
  multiple: true,
})

/** --[no-]qr, shared by serve, init and trust: the QR code of the onboarding URL, shown only at a terminal. */
export const qrFlag = Flags.boolean({
  description: 'Show a QR code of the onboarding URL for phones (only at a terminal).',
  default: true,
  allowNo: true,
})

/**
 * serve's flags that are settings (see storedSettingNames): serve takes them for one run, and
 * `settings set` takes the very same definitions to store them. None has an oclif default, so a
 * flag that was not given leaves the stored setting in force.
 */
export const serveSettingFlags = {
  port: Flags.integer({
    description: `Port to listen on (0 picks a free one). [default: ${settingDefaults.port}]`,
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
  'secret-file': secretFlags['secret-file'],
  realm: Flags.string({
    description: `Basic auth realm shown by browsers. [default: ${settingDefaults.realm}]`,
  }),
  'frame-ancestors': Flags.string({
    description: 'Origin allowed to embed the page, e.g. a dashboard (repeatable).',
    multiple: true,
  }),
  'max-failures': Flags.integer({
    description: `Failed logins from one address that lock it out (from one IPv6 LAN prefix: 4 times as many). [default: ${settingDefaults['max-failures']}]`,
    min: 1,
  }),
  'failure-window': Flags.integer({
    description: `Seconds over which failed logins are counted. [default: ${settingDefaults['failure-window']}]`,
    min: 1,
  }),
  lockout: Flags.integer({
    description: `Seconds of the first lockout; each further one doubles, up to 15 minutes. [default: ${settingDefaults.lockout}]`,
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
} satisfies Record<StoredSettingName, unknown>
