import {BaseCommand} from '../cli/base-command.js'
import {qrFlag} from '../cli/flags.js'
import {findOnboardingUrls} from '../server/onboarding-urls.js'
import {printTrust} from '../ui/trust.js'

export interface TrustJson {
  urls: string[]
  localUrl: string
  caFingerprint: string
  caFile: string
  /** Whether the CA has name constraints: it may vouch only for the home's names and addresses. */
  caConstrained: boolean
}

export default class Trust extends BaseCommand<typeof Trust> {
  static summary = 'Show how to trust the CA on a phone or another computer.'
  static description = `Prints a QR code (at a terminal) and the URL of the onboarding page, served over plain HTTP on the server's port on every LAN address; the CA fingerprint to compare with the one that page shows; whether the CA vouches only for the home's names and addresses (name constraints); and, per platform, the file to download and the steps that trust the CA.
The port is the running server's, else the config's, else 8443.`

  static enableJsonFlag = true

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --no-qr',
    '<%= config.bin %> <%= command.id %> --json',
  ]

  static flags = {
    qr: qrFlag,
  }

  public async run(): Promise<TrustJson> {
    const {requireAuthority} = await import('../certificates/store.js')
    const authority = await requireAuthority(this.configDir)
    const onboarding = await findOnboardingUrls(this.configDir)
    if (!this.jsonEnabled()) printTrust(this.output, {onboarding, authority, qr: this.flags.qr})
    return {
      urls: onboarding.urls,
      localUrl: onboarding.localUrl,
      caFingerprint: authority.fingerprint,
      caFile: authority.file,
      caConstrained: authority.nameConstraints !== undefined,
    }
  }
}
