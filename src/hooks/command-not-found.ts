import {Errors, toConfiguredId, type Hook, type Interfaces} from '@oclif/core'

import {ExitCode, errorDocument} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import {printFailure} from '../ui/messages.js'
import {createTerminalOutput} from '../ui/output.js'
import {isPromptCancelled, terminalPromptsFor} from '../cli/prompts.js'
import type {Prompts} from '../prompts.js'

/**
 * "Did you mean" for a mistyped command or topic, in place of @oclif/plugin-not-found's hook: that
 * one prints no suggestion without a terminal, exits 127, and at a terminal runs the suggestion when
 * Enter is pressed. Here the suggestion is printed everywhere (as `{"error": …}` with --json), the
 * exit code is the table's usage error, and at a terminal it runs only after an explicit "y" (as
 * git's `help.autocorrect=prompt` asks "[y/N]"): the suggestion may be `init --force` or `stop`.
 */
const hook: Hook.CommandNotFound = async function ({id, argv = [], config}) {
  const typed = toConfiguredId(id, config)
  const suggestion = closestId(id, knownIds(config))
  // oclif joins every word into the id when a command takes no arguments (`logs 50` is `logs:50`):
  // run that command with the words as arguments, and let its parser say which one is unexpected.
  const command = config.commandIDs
    .filter((known) => id.startsWith(`${known}:`))
    .sort((a, b) => a.length - b.length)
    .pop()
  if (command && (!suggestion || suggestion === command)) {
    return runInstead(config, command, [...id.slice(command.length + 1).split(':'), ...argv])
  }
  const spoken = (commandId: string) => homeauthCommand(toConfiguredId(commandId, config))
  const message = suggestion
    ? `"${typed}" is not a ${config.bin} command. Did you mean "${toConfiguredId(suggestion, config)}"?`
    : `"${typed}" is not a ${config.bin} command.`
  // Only the command is suggested, never the typed arguments: they may hold a password (-p).
  const suggestions = [suggestion ? spoken(suggestion) : homeauthCommand('--help')]

  if (argv.includes('--json')) {
    process.stdout.write(JSON.stringify(errorDocument(ExitCode.usage, message, suggestions), null, 2) + '\n')
    return Errors.exit(ExitCode.usage)
  }
  printFailure(createTerminalOutput(process.stdout, process.stderr), message, suggestions)
  const prompts = terminalPromptsFor()
  if (suggestion && prompts && (await confirmRun(prompts, spoken(suggestion)))) {
    if (config.findCommand(suggestion)) return runInstead(config, suggestion, argv)
    return runInstead(config, 'help', suggestion.split(':'))
  }
  return Errors.exit(ExitCode.usage)
}

export default hook

/**
 * Runs `commandId` in place of what was typed. oclif prints a parse error's usage text for the
 * command named in process.argv, which still names the typed one ("Command logs:50 not found"):
 * it is made to name this command.
 */
function runInstead(config: Interfaces.Config, commandId: string, args: string[]): Promise<unknown> {
  process.argv = [...process.argv.slice(0, 2), ...commandId.split(':')]
  return config.runCommand(commandId, args)
}

async function confirmRun(prompts: Prompts, command: string): Promise<boolean> {
  try {
    return await prompts.confirm(`Run ${command} now?`, false)
  } catch (error) {
    if (isPromptCancelled(error)) return Errors.exit(ExitCode.cancelled)
    throw error
  }
}

/** Every id a user may type: visible commands, their aliases and topics. */
function knownIds(config: Interfaces.Config): string[] {
  const commands = config.commands.filter((command) => !command.hidden)
  const topics = config.topics.filter((topic) => !topic.hidden).map((topic) => topic.name)
  return [...new Set([...commands.flatMap((command) => [command.id, ...command.aliases]), ...topics])]
}

/**
 * The known id nearest to `typed` by edit distance (a swap of two neighbouring letters counts as
 * one edit, so `sevre` is one from `serve`), or undefined when none is within about a third of its
 * length: a suggestion that shares little with what was typed helps nobody.
 */
export function closestId(typed: string, ids: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(typed.length / 3))
  let best: {id: string; distance: number} | undefined
  for (const id of [...ids].sort()) {
    const distance = editDistance(typed, id)
    if (distance <= limit && (!best || distance < best.distance)) best = {id, distance}
  }
  return best?.id
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({length: a.length + 1}, (_, i) =>
    Array.from({length: b.length + 1}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const row = rows[i]!
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1)
    }
  }
  return rows[a.length]![b.length]!
}
