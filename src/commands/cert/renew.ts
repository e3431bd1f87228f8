import {BaseCommand} from '../../base-command.js'
import {sanFlag} from '../../flags.js'
import {usageError} from '../../errors.js'
import {isValidHost} from '../../certificates/hosts.js'
import {signalReload} from '../../server/state.js'
import {printRenewed} from '../../ui/certificates.js'

export default class CertRenew extends BaseCommand<typeof CertRenew> {
  static summary = 'Make a new server certificate from the same CA.'
  static description = `Devices that trust the CA need nothing new. Use it after adding a host name (--san) or when the LAN address changed; a running server switches to the new certificate at once.`

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --san pi.home.arpa',
  ]

  static flags = {
    san: sanFlag,
  }

  public async run(): Promise<void> {
    const added = (this.flags.san ?? []).map((host) => host.toLowerCase())
    const bad = added.find((host) => !isValidHost(host))
    if (bad !== undefined)
      throw usageError(`--san ${JSON.stringify(bad)} is neither a host name nor an IP address.`)
    const {renewServerCertificate} = await import('../../certificates/store.js')
    const certificate = await renewServerCertificate(this.configDir, added)
    const running = await signalReload(this.configDir)
    printRenewed(this.output, certificate, running?.pid)
  }
}
