import {BaseCommand} from '../cli/base-command.js'
import {ExitCode} from '../errors.js'
import {serverStatus, type StatusReport} from '../daemon/manage.js'
import {printStatus} from '../ui/daemon.js'

export type StatusJson = Omit<StatusReport, 'healthy'>

export default class Status extends BaseCommand<typeof Status> {
  static summary = 'Say whether the server runs, where, since when, and when its certificate expires.'
  static description =
    'Exit code 0 when it runs and answers /healthz, 3 otherwise. A stale state file (process gone, or its PID now used by another program) is reported as not running and removed.'
  static enableJsonFlag = true
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --config-dir /srv/homeauth',
  ]

  public async run(): Promise<StatusJson> {
    const {healthy, ...status} = await serverStatus(this.configDir)
    if (!this.jsonEnabled()) printStatus(this.output, {healthy, ...status})
    if (!healthy) process.exitCode = ExitCode.notRunning
    return status
  }
}
