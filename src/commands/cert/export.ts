import path from 'node:path'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {caDownloads} from '../../certificates/platforms.js'
import {usageError} from '../../errors.js'
import {homeauthCommand} from '../../invocation.js'
import {printExported} from '../../ui/certificates.js'

export default class CertExport extends BaseCommand<typeof CertExport> {
  static summary = 'Write the CA certificate as PEM, DER or an Apple configuration profile.'
  static description = `The files the server offers devices at /ca.pem, /ca.crt and /homeauth.mobileconfig. The CA certificate is public; its key never leaves the config directory.`

  static examples = [
    '<%= config.bin %> <%= command.id %> --out ca.pem',
    '<%= config.bin %> <%= command.id %> --format der --out ca.crt',
    '<%= config.bin %> <%= command.id %> --format mobileconfig > homeauth.mobileconfig',
  ]

  static flags = {
    format: Flags.option({
      description: 'pem (most systems), der (Android, Windows) or mobileconfig (iPhone, iPad, macOS).',
      options: ['pem', 'der', 'mobileconfig'] as const,
      default: 'pem',
    })(),
    out: Flags.string({char: 'o', description: 'Write to this file (mode 0644) instead of stdout.'}),
    force: Flags.boolean({description: 'Replace the file --out names if it exists.', dependsOn: ['out']}),
  }

  public async run(): Promise<void> {
    const {format, out, force} = this.flags
    if (out === undefined && process.stdout.isTTY) {
      const file = path.posix.basename(caDownloads[format].path)
      const formatFlag = format === 'pem' ? '' : ` --format ${format}`
      throw usageError('cert export writes the CA certificate to a file or a pipe, not to the terminal.', [
        `Pass --out ${file}, or redirect it: ${homeauthCommand(`cert export${formatFlag}`)} > ${file}`,
      ])
    }
    const {exportStoredAuthority, saveAuthorityExport} = await import('../../certificates/export.js')
    const exported = await exportStoredAuthority(this.configDir, format)
    if (out === undefined) return this.output.out.write(exported.data)
    await saveAuthorityExport(out, exported.data, force)
    printExported(this.output, out, format, exported.fingerprint)
  }
}
