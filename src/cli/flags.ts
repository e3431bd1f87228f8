import {Flags} from '@oclif/core'

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
