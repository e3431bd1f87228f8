import {BaseCommand} from '../../cli/base-command.js'
import {sanFlag} from '../../cli/flags.js'
import {parseExtraHosts} from '../../certificates/hosts.js'
import {signalReload} from '../../daemon/state.js'
import {printRenewed} from '../../ui/certificates.js'

export default class CertRenew extends BaseCommand<typeof CertRenew> {
  static summary = 'Make a new server certificate from the same CA.'
  static description = `Devices that trust the CA need nothing new. Use it to add a host name (--san); a running server switches to the new certificate at once. serve adds a new LAN address by itself.`

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --san pi.home.arpa',
    '<%= config.bin %> <%= command.id %> --san homeassistant.local --san 192.168.1.20',
  ]

  static flags = {
    san: sanFlag,
  }

  public async run(): Promise<void> {
    const added = parseExtraHosts(this.flags.san ?? [])
    const {renewServerCertificate} = await import('../../certificates/store.js')
    const certificate = await renewServerCertificate(this.configDir, added)
    const running = await signalReload(this.configDir)
    printRenewed(this.output, certificate, running?.pid)
  }
}
