import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {configPath} from '../paths.js'
import {followFile, journalOf, tailLines} from '../daemon/manage.js'
import {printJournalHint, printLogLines, printNoLog} from '../ui/daemon.js'

export default class Logs extends BaseCommand<typeof Logs> {
  static summary = 'Show the log of the background server.'
  static description =
    'The log is serve.log in the config directory, written by serve --detach; it is rotated to serve.log.1 at 1 MiB. A server run by systemd (homeauth service install) logs to the journal: logs prints the journalctl command that shows it.'
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --lines 100',
    '<%= config.bin %> <%= command.id %> --follow',
  ]

  static flags = {
    lines: Flags.integer({char: 'n', description: 'How many lines from the end.', default: 20, min: 0}),
    follow: Flags.boolean({char: 'f', description: 'Keep printing new lines until Ctrl+C.'}),
  }

  public async run(): Promise<void> {
    const journal = await journalOf(this.configDir)
    if (journal) return printJournalHint(this.output, journal, this.flags)
    const file = configPath(this.configDir, 'log')
    const lines = await tailLines(file, this.flags.lines)
    if (lines === undefined && !this.flags.follow) return printNoLog(this.output, file)
    printLogLines(this.output, lines ?? [])
    if (this.flags.follow) {
      const stop = new AbortController()
      process.once('SIGINT', () => stop.abort())
      process.once('SIGTERM', () => stop.abort())
      await followFile(file, this.output.out.write, stop.signal)
    }
  }
}
