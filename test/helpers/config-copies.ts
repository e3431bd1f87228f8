import {cpSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterAll, afterEach, beforeAll} from 'vitest'

/**
 * One initialised config directory per test file, made by `make` (an `init`: scrypt and key
 * generation take seconds), and a function that gives each test a copy of its own: the generation
 * directory, the links through it and every mode as `make` left them. Each is named `name`.
 */
export function useConfigCopies(
  make: (configDir: string) => Promise<unknown>,
  name = 'config',
): () => string {
  let source = ''
  const made: string[] = []
  beforeAll(async () => {
    source = path.join(mkdtempSync(path.join(os.tmpdir(), 'homeauth-test-')), name)
    await make(source)
  }, 60_000)
  afterAll(() => rmSync(path.dirname(source), {recursive: true, force: true}))
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, {recursive: true, force: true})
  })
  return () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'homeauth-test-'))
    made.push(parent)
    const configDir = path.join(parent, name)
    cpSync(source, configDir, {recursive: true, verbatimSymlinks: true, preserveTimestamps: true})
    return configDir
  }
}
