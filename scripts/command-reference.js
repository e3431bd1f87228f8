#!/usr/bin/env node
// Writes the command reference of docs/commands.md, between <!-- commands --> and <!-- commandsstop -->
// (the markers `oclif readme` uses), from the help of every visible command, as `homeauth COMMAND --help`
// prints it at 80 columns: usage, flags with their descriptions, description and examples. The
// commands come from the built CLI (oclif.manifest.json, else dist/), so run `npm run readme`
// after adding or changing a command. `--check` writes nothing and exits 1 when the page differs,
// which test/readme.test.ts runs so that the reference cannot drift from the help.
//
//   node scripts/command-reference.js [--check] [Markdown file]
import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {Config, loadHelpClass, toConfiguredId} from '@oclif/core'

const root = fileURLToPath(new URL('..', import.meta.url))
const start = '<!-- commands -->'
const end = '<!-- commandsstop -->'

const args = process.argv.slice(2)
const check = args.includes('--check')
const pageFile = path.resolve(args.find((arg) => arg !== '--check') ?? path.join(root, 'docs', 'commands.md'))

const page = await readFile(pageFile, 'utf8')
const expected = replaceReference(page, await renderReference())
if (check) {
  if (expected !== page) {
    console.error(`${pageFile}: the command reference differs from the help. Run: npm run readme`)
    process.exitCode = 1
  }
} else if (expected !== page) {
  await writeFile(pageFile, expected)
  console.error(`Wrote the command reference to ${pageFile}.`)
}

/** One section per visible command, sorted by name: its summary, then its help in a code block. */
async function renderReference() {
  const config = await Config.load({root})
  const Help = await loadHelpClass(config)
  const help = new Help(config, {stripAnsi: true, maxWidth: 80})
  const commands = config.commands
    .filter((command) => !command.hidden)
    .sort((a, b) => a.id.localeCompare(b.id, 'en'))
  const sections = commands.map((command) => {
    const name = `${config.bin} ${toConfiguredId(command.id, config)}`
    const summary = help.render(command.summary ?? command.description?.split('\n')[0] ?? '')
    const text = help
      .formatCommand(command)
      .replace(/[ \t]+$/gm, '')
      .trim()
    return `## \`${name}\`\n\n${summary}\n\n\`\`\`\n${text}\n\`\`\``
  })
  return sections.join('\n\n')
}

function replaceReference(text, reference) {
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from === -1 || to < from) throw new Error(`${pageFile} has no ${start} … ${end} markers.`)
  return `${text.slice(0, from + start.length)}\n\n${reference}\n\n${text.slice(to)}`
}
