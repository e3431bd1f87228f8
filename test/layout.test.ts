import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {projectDir} from './helpers/cli.js'

const srcDir = path.join(projectDir, 'src')

/** Every TypeScript file below src/, relative to it. */
function sourceFiles(): string[] {
  return readdirSync(srcDir, {recursive: true, encoding: 'utf8'}).filter((file) => file.endsWith('.ts'))
}

/** The specifiers a file imports, static and dynamic, type-only imports included. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(srcDir, file), 'utf8')
  return [...text.matchAll(/(?:\bfrom|\bimport\()\s*'([^']+)'/g)].map((match) => match[1]!)
}

/** A file's folder below src/ ("." for the top); the commands' topic folders count as commands/. */
function folderOf(file: string): string {
  const [first, ...rest] = file.split(path.sep)
  return rest.length === 0 ? '.' : first!
}

/** Each folder → the folders its files import (relative imports only). */
function folderImports(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>()
  for (const file of sourceFiles()) {
    const from = folderOf(file)
    for (const specifier of importsOf(file).filter((spec) => spec.startsWith('.'))) {
      const to = folderOf(path.relative(srcDir, path.resolve(srcDir, path.dirname(file), specifier)))
      if (to !== from) graph.set(from, (graph.get(from) ?? new Set()).add(to))
    }
  }
  return graph
}

/** The pairs of folders that import each other, as "a <-> b". */
function bothWays(graph: Map<string, Set<string>>): string[] {
  return [...graph].flatMap(([from, targets]) =>
    [...targets].filter((to) => from < to && graph.get(to)?.has(from)).map((to) => `${from} <-> ${to}`),
  )
}

describe('the layout of src/', () => {
  it('has no two folders that import each other', () => {
    expect(bothWays(folderImports())).toEqual([])
  })

  it('keeps the top of src/ below every folder: its files import none of them', () => {
    expect([...(folderImports().get('.') ?? [])]).toEqual([])
  })

  it('imports @oclif/core only in the commands, the command seam and the hooks', () => {
    const importers = sourceFiles().filter((file) => importsOf(file).includes('@oclif/core'))
    const outside = importers.filter((file) => !['commands', 'cli', 'hooks', '.'].includes(folderOf(file)))
    expect(outside).toEqual([])
    expect(importers.filter((file) => folderOf(file) === '.')).toEqual(['index.ts'])
  })

  it('sees the imports and the cycles it looks for (so a silent check means something)', () => {
    const graph = folderImports()
    expect(graph.get('commands')).toContain('cli')
    expect(graph.get('server')).toContain('web')
    const withCycle = new Map([...graph, ['web', new Set([...graph.get('web')!, 'server'])]])
    expect(bothWays(withCycle)).toEqual(['server <-> web'])
  })
})
