import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {projectDir} from './helpers/cli.js'
import {useTempDir} from './helpers/temp.js'

const tempDir = useTempDir()
const commandsPage = path.join(projectDir, 'docs', 'commands.md')
const readme = path.join(projectDir, 'README.md')
const docsDir = path.join(projectDir, 'docs')
const pages = [
  readme,
  ...readdirSync(docsDir)
    .filter((name) => name.endsWith('.md'))
    .map((name) => path.join(docsDir, name)),
]

/** `scripts/command-reference.js --check FILE`: exit 0 when FILE's command reference is the help's. */
function checkReference(file: string) {
  return spawnSync(
    process.execPath,
    [path.join(projectDir, 'scripts', 'command-reference.js'), '--check', file],
    {
      encoding: 'utf8',
    },
  )
}

/** The lines of Markdown outside fenced code blocks: where links and headings are. */
function prose(text: string): string[] {
  let fenced = false
  return text.split('\n').filter((line) => {
    if (line.startsWith('```')) fenced = !fenced
    return !fenced && !line.startsWith('```')
  })
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const result = new Set<string>()
  for (const line of prose(text)) {
    const heading = line.match(/^#{1,6} +(.*?) *$/)
    if (!heading) continue
    const slug = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    result.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return result
}

/** Every link and image target of a page that is not a URL with a scheme (https:, mailto:). */
function relativeLinks(text: string): string[] {
  const targets: string[] = []
  for (const line of prose(text)) {
    const withoutCode = line.replace(/`[^`]*`/g, '``')
    for (const match of withoutCode.matchAll(/\]\(([^)\s]+)(?: +"[^"]*")?\)/g)) {
      if (!/^[a-z][a-z\d+.-]*:/i.test(match[1]!)) targets.push(match[1]!)
    }
  }
  return targets
}

describe('the command reference in docs/commands.md', () => {
  it('is what `npm run readme` writes from the help of every command', () => {
    const result = checkReference(commandsPage)
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
  })

  it("shows every command's help", () => {
    const text = readFileSync(commandsPage, 'utf8')
    for (const command of ['init', 'serve', 'fetch-secret', 'cert renew', 'cert export']) {
      expect(text).toContain(`## \`homeauth ${command}\``)
      expect(text).toContain(`USAGE\n  $ homeauth ${command} `)
    }
  })

  it('fails the check when a command or a flag is missing from it', () => {
    const text = readFileSync(commandsPage, 'utf8')
    const withoutStop = path.join(tempDir(), 'commands.md')
    writeFileSync(withoutStop, text.replace(/## `homeauth stop`[\s\S]*?```[\s\S]*?```\n\n/, ''))
    const withoutFlag = path.join(tempDir(), 'commands.md')
    writeFileSync(withoutFlag, text.replace(/^ +--realm=.*\n(?: {20,}\S.*\n)*/m, ''))

    for (const file of [withoutStop, withoutFlag]) {
      expect(readFileSync(file, 'utf8')).not.toBe(text)
      const result = checkReference(file)
      expect(result.status).toBe(1)
      expect(result.stderr).toContain('differs from the help. Run: npm run readme')
    }
  })
})

describe('links of README.md and docs/*.md', () => {
  it('point to files that exist, and to headings that exist on Markdown pages', () => {
    const dead: string[] = []
    for (const page of pages) {
      for (const link of relativeLinks(readFileSync(page, 'utf8'))) {
        const [file = '', anchor] = link.split('#')
        const target = file === '' ? page : path.resolve(path.dirname(page), decodeURIComponent(file))
        const from = path.relative(projectDir, page)
        if (!existsSync(target)) dead.push(`${from}: ${link} (no such file)`)
        else if (
          anchor !== undefined &&
          target.endsWith('.md') &&
          !anchors(readFileSync(target, 'utf8')).has(anchor)
        )
          dead.push(`${from}: ${link} (no such heading)`)
      }
    }
    expect(dead).toEqual([])
  })

  it('link every page of docs/ from README.md', () => {
    const linked = new Set(
      relativeLinks(readFileSync(readme, 'utf8')).map((link) =>
        path.resolve(projectDir, link.split('#')[0]!),
      ),
    )
    expect(pages.filter((page) => page !== readme && !linked.has(page))).toEqual([])
  })

  it('find the dead links they are there to find', () => {
    const text =
      '# One\n\n## Two: `x`\n\n[a](#two-x) [b](#three) [c](missing.md) `[d](#in-code)`\n\n```\n[e](#fenced)\n```\n'
    expect([...anchors(text)]).toEqual(['one', 'two-x'])
    expect(relativeLinks(text)).toEqual(['#two-x', '#three', 'missing.md'])
  })
})
