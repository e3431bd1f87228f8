import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {ExitCode} from '../errors.js'
import {serverStatus, type StatusReport} from '../daemon/manage.js'
import type {ClientsReport} from '../web/control.js'
import {printClients, printStatus} from '../ui/daemon.js'

export type StatusJson = Omit<StatusReport, 'healthy'>

export default class Status extends BaseCommand<typeof Status> {
  static summary = 'Say whether the server runs, where, since when, and when its certificate expires.'
  static description = `Exit code 0 when it runs and answers /healthz, 3 otherwise. A stale state file (process gone, or its PID now used by another program) is reported as not running and removed.
With --clients, asks the running server instead (over its control socket in the config directory, which only its owner can use) which clients are locked out for failed logins, since when, until when and after how many failures, and who signed in last, from where; exit code 3 when no server runs.`

  static enableJsonFlag = true
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --clients',
    '<%= config.bin %> <%= command.id %> --config-dir /srv/homeauth',
  ]

  static flags = {
    clients: Flags.boolean({
      description: 'Show who is locked out for failed logins, and the last sign-ins of each user.',
    }),
  }

  public async run(): Promise<StatusJson | ClientsReport> {
    if (this.flags.clients) {
      const {lockedOutClients} = await import('../daemon/control.js')
      const clients = await lockedOutClients(this.configDir)
      if (!this.jsonEnabled()) printClients(this.output, clients, new Date())
      return clients
    }
    const {healthy, ...status} = await serverStatus(this.configDir)
    if (!this.jsonEnabled()) printStatus(this.output, {healthy, ...status})
    if (!healthy) process.exitCode = ExitCode.notRunning
    return status
  }
}
