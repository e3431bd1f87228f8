import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {credentialFlags} from '../cli/flags.js'
import {printSecret, printVisibleSecretWarnings, printWarning} from '../ui/messages.js'

export default class FetchSecret extends BaseCommand<typeof FetchSecret> {
  static summary = 'Read the secret from a homeauth server, as curl -u would.'
  static description = `Prints the message alone on stdout, so $(homeauth fetch-secret) works.
URL, CA and user name come from the config directory (a running server's URL from state.json first); flags and the environment override them. The password comes from -p, --password-stdin or HOMEAUTH_PASSWORD, else a masked prompt on a terminal.
Exit codes: 0 success, 2 bad flags, 3 server not running or not reachable, 4 credentials rejected, 5 throttled, 6 certificate not trusted or host name mismatch, 7 timed out, 8 no CA or config to use, 10 not the expected answer.`

  static enableJsonFlag = true

  static examples = [
    'HOMEAUTH_PASSWORD=ELO <%= config.bin %> <%= command.id %>',
    'printf %s "$PASSWORD" | <%= config.bin %> <%= command.id %> --url https://pi.local:8443 --ca ./ca.pem --username JeffLynne --password-stdin',
    '<%= config.bin %> <%= command.id %> --json --timeout 3',
  ]

  static flags = {
    url: Flags.string({description: 'Base URL (then /api/secret is added) or the full endpoint.'}),
    ...credentialFlags(''),
    ca: Flags.string({
      description: "CA certificate (PEM) to trust. [default: the config directory's ca.pem]",
    }),
    insecure: Flags.boolean({description: 'Do not verify the server certificate at all (says so loudly).'}),
    timeout: Flags.string({
      description: 'Give up after this many seconds (decimals allowed).',
      default: '10',
    }),
  }

  public async run(): Promise<{message: string}> {
    const {flags} = this
    printVisibleSecretWarnings(this.output, flags)
    if (flags.insecure)
      printWarning(
        this.output,
        '--insecure: the server certificate is NOT verified; anyone on the network could pose as the server.',
      )
    const {fetchSecretFor} = await import('../client/fetch-secret.js')
    const message = await fetchSecretFor({
      configDir: this.configDir,
      url: flags.url,
      ca: flags.ca,
      insecure: flags.insecure,
      timeout: flags.timeout,
      ...this.credentialInputs(flags),
    })
    if (!this.jsonEnabled()) printSecret(this.output, message)
    return {message}
  }
}
