import {BaseCommand} from '../../cli/base-command.js'
import {printCertificates} from '../../ui/certificates.js'

interface CertificateJson {
  file: string
  subject: string
  hosts: string[]
  notAfter: string
  daysLeft: number
}

export interface CertJson {
  authority: CertificateJson & {caFingerprint: string}
  server: (CertificateJson & {serverFingerprint: string}) | null
}

export default class Cert extends BaseCommand<typeof Cert> {
  static summary = 'Show the CA and the server certificate.'
  static description =
    'Subject, host names, expiry and days left of ca.pem and server.pem, with the SHA-256 CA fingerprint (what a phone compares) and server certificate fingerprint.'
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
    const json = ({fingerprint: _fingerprint, ...summary}: typeof authority) => ({
      ...summary,
      notAfter: summary.notAfter.toISOString(),
    })
    return {
      authority: {...json(authority), caFingerprint: authority.fingerprint},
      server: server ? {...json(server), serverFingerprint: server.fingerprint} : null,
    }
  }
}
