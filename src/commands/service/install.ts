import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {checkConfigDir} from '../../config/files.js'
import {
  enableService,
  planService,
  refuseRunningServer,
  runSystemctl,
  writeUnit,
} from '../../daemon/service.js'
import {printInstalled} from '../../ui/service.js'

export default class ServiceInstall extends BaseCommand<typeof ServiceInstall> {
  static summary = 'Run homeauth serve at boot: write a hardened systemd unit for this config directory.'
  static description = `Writes a user unit (~/.config/systemd/user/homeauth.service, or under $XDG_CONFIG_HOME) by default, or with --system /etc/systemd/system/homeauth.service running as --user-name (default: the config directory's owner; never root).
The unit runs this node and this homeauth by their absolute paths with the credentials stored by init and the settings stored by init and settings set, restarts it on failure with a back-off, reloads it with SIGHUP, logs to the journal and confines it to its config directory.
It prints the systemctl commands that enable and start it; --now runs them (exit 3 when systemctl fails; the unit file stays). An existing unit that differs is replaced only with --force. It refuses (exit 9) while a server started another way runs on the config directory.`

  static examples = [
    '<%= config.bin %> <%= command.id %> --now',
    '<%= config.bin %> <%= command.id %> --print',
    'sudo <%= config.bin %> <%= command.id %> --system --user-name pi --config-dir /home/pi/.config/homeauth --now',
  ]

  static flags = {
    system: Flags.boolean({description: 'Write a system unit (/etc/systemd/system) instead of a user unit.'}),
    'user-name': Flags.string({
      description: "With --system: the user it runs as. [default: the config directory's owner]",
      dependsOn: ['system'],
    }),
    print: Flags.boolean({description: 'Print the unit and write nothing.', exclusive: ['now']}),
    now: Flags.boolean({description: 'Also run the systemctl commands that enable and start it.'}),
    force: Flags.boolean({
      description: 'Replace an existing unit that differs (another config directory, an older homeauth).',
    }),
  }

  // Root writes a system unit for another user's config directory: it only reads config.json, and
  // the unit runs as the directory's owner (planService checks it), never as root.
  protected override async checkConfigDirectory(): Promise<void> {
    await checkConfigDir(this.configDir, {anyOwner: this.flags.system && process.getuid?.() === 0})
  }

  public async run(): Promise<void> {
    const {flags} = this
    const plan = await planService(
      {
        scope: flags.system ? 'system' : 'user',
        configDir: this.configDir,
        userName: flags['user-name'],
        nodePath: process.execPath,
        packageRoot: this.config.root,
      },
      process.env,
    )
    if (flags.print) return this.output.out.write(plan.text)
    await refuseRunningServer(plan)
    const written = await writeUnit(plan, flags.force)
    if (flags.now) await enableService(plan, runSystemctl)
    printInstalled(this.output, plan, written, flags.now)
  }
}
