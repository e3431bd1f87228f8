import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterAll} from 'vitest'

import {projectDir} from './cli.js'

/** What the built CLI runs from: the files the package ships, and package.json. */
const shipped = ['bin', 'dist', 'templates', 'package.json', 'oclif.manifest.json']

/** The lockfile's packages that are not only for development: the node_modules the CLI needs. */
function runtimePackages(): string[] {
  const lock = JSON.parse(readFileSync(path.join(projectDir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, {dev?: boolean; devOptional?: boolean}>
  }
  return Object.entries(lock.packages)
    .filter(([name, entry]) => name.startsWith('node_modules/') && !entry.dev && !entry.devOptional)
    .map(([name]) => name)
}

/** `source` at `target`, each file a hard link where the file system allows, else a copy; directories mode 0755. */
function linkPath(source: string, target: string): void {
  if (!statSync(source).isDirectory()) {
    try {
      linkSync(source, target)
    } catch (error) {
      if (!['EXDEV', 'EPERM'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error
      copyFileSync(source, target)
    }
    return
  }
  mkdirSync(target, {recursive: true, mode: 0o755})
  for (const entry of readdirSync(source, {withFileTypes: true})) {
    // A package's own node_modules holds packages the lockfile lists on their own.
    if ((entry.isDirectory() && entry.name !== 'node_modules') || entry.isFile())
      linkPath(path.join(source, entry.name), path.join(target, entry.name))
  }
}

/**
 * The built CLI where every user can read it, for tests that run it as another uid (nobody, or one
 * without a passwd entry): the project directory may lie below one that only root can enter (a
 * clone under `mktemp -d`). Made once per test file under the OS temp dir, removed after it;
 * returns its directory (with bin/run.js and dist/).
 */
export function readableBuild(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'homeauth-build-'))
  chmodSync(dir, 0o755)
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  for (const name of [...shipped, ...runtimePackages()]) {
    const source = path.join(projectDir, name)
    // An optional package for another platform is in the lockfile but not installed.
    if (existsSync(source)) linkPath(source, path.join(dir, name))
  }
  return dir
}
