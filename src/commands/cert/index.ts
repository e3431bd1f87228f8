import {BaseCommand} from '../../cli/base-command.js'
import type {NameConstraints} from '../../certificates/constraints.js'
import type {CertificateSummary} from '../../certificates/inspect.js'
import {printCertificates} from '../../ui/certificates.js'

interface CertificateJson {
  file: string
  subject: string
  hosts: string[]
  notAfter: string
  daysLeft: number
}

export interface CertJson {
  /** nameConstraints: what the CA may vouch for; null for a CA without them (it may vouch for any name). */
  authority: CertificateJson & {caFingerprint: string; nameConstraints: NameConstraints | null}
  server: (CertificateJson & {serverFingerprint: string}) | null
}

export default class Cert extends BaseCommand<typeof Cert> {
  static summary = 'Show the CA and the server certificate.'
  static description =
    "Subject, host names, expiry and days left of ca.pem and server.pem, with the SHA-256 CA fingerprint (what a phone compares) and server certificate fingerprint, and whether the CA is constrained to the home's names and addresses."
  static enableJsonFlag = true
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --config-dir /srv/homeauth',
  ]

  public async run(): Promise<CertJson> {
    const {describeStoredCertificates} = await import('../../certificates/store.js')
    const {authority, server} = await describeStoredCertificates(this.configDir)
    if (!this.jsonEnabled()) printCertificates(this.output, authority, server)
    const json = ({fingerprint: _fingerprint, ...summary}: CertificateSummary & {file: string}) => ({
      ...summary,
      notAfter: summary.notAfter.toISOString(),
    })
    return {
      authority: {
        ...json(authority),
        caFingerprint: authority.fingerprint,
        nameConstraints: authority.nameConstraints ?? null,
      },
      server: server ? {...json(server), serverFingerprint: server.fingerprint} : null,
    }
  }
}
