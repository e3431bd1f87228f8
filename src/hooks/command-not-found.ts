import {Errors, toConfiguredId, type Hook, type Interfaces} from '@oclif/core'

import {ExitCode, errorDocument} from '../errors.js'
import {homeauthCommand, keepConfigDirInHints} from '../invocation.js'
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
  const words = id.split(':')
  const guess = guessCommand(words, knownIds(config))
  keepConfigDirInHints(configDirArgument(argv), config.configDir)
  const spoken = (commandId: string) => toConfiguredId(commandId, config)
  const json = argv.includes('--json')
  // oclif folds words into the id only after a command that takes no arguments (`logs 50` is
  // `logs:50`): they are unexpected arguments, which its parser would repeat.
  const command = config.commandIDs
    .filter((known) => id.startsWith(`${known}:`))
    .sort((a, b) => a.length - b.length)
    .pop()
  if (command && (!guess.suggestion || guess.suggestion === command)) {
    printUsageError(json, `"${spoken(command)}" takes no arguments.`, [
      homeauthCommand(`${spoken(command)} --help`, false),
    ])
    return Errors.exit(ExitCode.usage)
  }
  // Only the words that stand for the command are repeated, never those after it: oclif folds
  // arguments into the id (`pasword hunter2` is `pasword:hunter2`), and they may hold a password.
  const typed = spoken(words.slice(0, guess.commandWords).join(':'))
  const message = guess.suggestion
    ? `"${typed}" is not a ${config.bin} command. Did you mean "${spoken(guess.suggestion)}"?`
    : `"${typed}" is not a ${config.bin} command.`
  // The suggestion keeps a --config-dir typed after it (see keepConfigDirInHints); help needs none.
  const suggestions = [
    guess.suggestion
      ? homeauthCommand(spoken(guess.suggestion))
      : homeauthCommand([...guess.topic, '--help'].join(' '), false),
  ]
  printUsageError(json, message, suggestions)
  if (json) return Errors.exit(ExitCode.usage)
  const prompts = terminalPromptsFor()
  if (guess.suggestion && prompts) {
    // The words typed after a mistyped command are its arguments (`user remve bob`): they go along,
    // to a command that takes arguments; any other would only repeat them as unexpected.
    const args = words.slice(guess.commandWords)
    const suggested = config.findCommand(guess.suggestion)
    const takesArgs =
      suggested !== undefined && (suggested.strict === false || Object.keys(suggested.args).length > 0)
    if (args.length === 0 || takesArgs) {
      const question = args.length > 0 ? ' now, with what you typed after it' : ' now'
      // The question names the command alone: it runs with every flag typed, --config-dir among them.
      if (await confirmRun(prompts, `${homeauthCommand(spoken(guess.suggestion), false)}${question}`)) {
        if (suggested) return runInstead(config, guess.suggestion, [...args, ...argv])
        return runInstead(config, 'help', guess.suggestion.split(':'))
      }
    }
  }
  return Errors.exit(ExitCode.usage)
}

export default hook

/** The value of `--config-dir DIR` or `--config-dir=DIR` among the words after a mistyped command. */
function configDirArgument(argv: string[]): string | undefined {
  const index = argv.findIndex((word) => word === '--config-dir' || word.startsWith('--config-dir='))
  if (index === -1) return undefined
  const word = argv[index]!
  return word === '--config-dir' ? argv[index + 1] : word.slice('--config-dir='.length)
}

/** A usage error as the `{"error": …}` document on stdout with --json, else as text on stderr. */
function printUsageError(json: boolean, message: string, suggestions: string[]): void {
  if (json) {
    process.stdout.write(JSON.stringify(errorDocument(ExitCode.usage, message, suggestions), null, 2) + '\n')
  } else {
    printFailure(createTerminalOutput(process.stdout, process.stderr), message, suggestions)
  }
}

/**
 * Runs `commandId` in place of what was typed. oclif prints a parse error's usage text for the
 * command named in process.argv, which still names the typed one ("Command logs:50 not found"):
 * it is made to name this command.
 */
function runInstead(config: Interfaces.Config, commandId: string, args: string[]): Promise<unknown> {
  process.argv = [...process.argv.slice(0, 2), ...commandId.split(':')]
  return config.runCommand(commandId, args)
}

async function confirmRun(prompts: Prompts, what: string): Promise<boolean> {
  try {
    return await prompts.confirm(`Run ${what}?`, false)
  } catch (error) {
    if (isPromptCancelled(error)) return Errors.exit(ExitCode.cancelled)
    throw error
  }
}

/** The ids a user may type: visible commands with their aliases, and topics. */
export interface KnownIds {
  commands: string[]
  topics: string[]
}

function knownIds(config: Interfaces.Config): KnownIds {
  const commands = config.commands.filter((command) => !command.hidden)
  return {
    commands: commands.flatMap((command) => [command.id, ...command.aliases]),
    topics: config.topics.filter((topic) => !topic.hidden).map((topic) => topic.name),
  }
}

/** What a mistyped id most likely meant, read from the words oclif folded into it. */
export interface CommandGuess {
  /** How many of the words stand for the command; the rest are its arguments. */
  commandWords: number
  /** The known id those words most likely meant. */
  suggestion?: string
  /** The words of the topic the typed command is in, when there is one (`user` in `user bob`). */
  topic: string[]
}

/**
 * The command in `words` (an id that oclif may have folded arguments into): the longest run of
 * leading words, no longer than the longest known id, that is near a known command or topic. A topic
 * typed exactly is no suggestion for itself: the word after it is the mistyped command.
 */
export function guessCommand(words: readonly string[], known: KnownIds): CommandGuess {
  const ids = [...known.commands, ...known.topics]
  const deepest = Math.max(...ids.map((id) => id.split(':').length))
  const topic = known.topics
    .map((name) => name.split(':'))
    .filter((topicWords) => isPrefix(topicWords, words))
    .reduce<string[]>(
      (longest, topicWords) => (topicWords.length > longest.length ? topicWords : longest),
      [],
    )
  for (let count = Math.min(deepest, words.length); count > 0; count--) {
    const typed = words.slice(0, count).join(':')
    const suggestion = closestId(typed, ids)
    if (suggestion === undefined) continue
    if (suggestion === typed && count < words.length && !known.commands.includes(typed)) break
    return {commandWords: count, suggestion, topic}
  }
  return {commandWords: Math.min(words.length, topic.length + 1), topic}
}

function isPrefix(prefix: readonly string[], words: readonly string[]): boolean {
  return prefix.length <= words.length && prefix.every((word, index) => words[index] === word)
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
