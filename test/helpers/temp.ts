import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterEach} from 'vitest'

/** A fresh directory under the OS temp dir, removed after the current test. */
export function useTempDir(): () => string {
  const made: string[] = []
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, {recursive: true, force: true})
  })
  return () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'homeauth-test-'))
    made.push(dir)
    return dir
  }
}
