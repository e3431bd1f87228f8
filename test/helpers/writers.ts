import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {createAuthority, issueServerCertificate, type PemPair} from '../../src/certificates/authority.js'
import {homeConstraints} from '../../src/certificates/constraints.js'
import {projectDir} from './cli.js'

/** A writer in its own process: `rounds` times, under the lock, counts one more for `who` and stores one of `pairs`. */
const writerScript = `
const [filesModule, dir, who, rounds, pairsFile] = process.argv.slice(1)
const {readFile} = await import('node:fs/promises')
const {withConfigLock} = await import(filesModule)
const pairs = JSON.parse(await readFile(pairsFile, 'utf8'))
for (let round = 0; round < Number(rounds); round++) {
  const pair = pairs[round % pairs.length]
  await withConfigLock(dir, async ({updateFileSet}) => {
    const counts = JSON.parse(await readFile(dir + '/counts.json', 'utf8'))
    counts[who] += 1
    await updateFileSet([
      {name: 'counts.json', data: JSON.stringify(counts), mode: 0o600},
      {name: 'server.pem', data: pair.cert, mode: 0o644},
      {name: 'server-key.pem', data: pair.key, mode: 0o600},
    ])
  })
}
`

export interface WriterOptions {
  /** The config directory; its counts.json must already hold a count for `who`. */
  dir: string
  who: string
  rounds: number
  /** A JSON file holding the `{cert, key}` pairs the writer stores in turn. */
  pairsFile: string
}

/**
 * Runs one writer process over the built `dist/config/files.js` (each round one switch of the whole
 * set); resolves with its exit code and what it wrote to stderr once it has exited.
 */
export function runWriter({
  dir,
  who,
  rounds,
  pairsFile,
}: WriterOptions): Promise<{code: number | null; stderr: string}> {
  const filesModule = pathToFileURL(path.join(projectDir, 'dist', 'config', 'files.js')).href
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', writerScript, filesModule, dir, who, String(rounds), pairsFile],
    {stdio: ['ignore', 'inherit', 'pipe']},
  )
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve) => child.on('close', (code) => resolve({code, stderr})))
}

/** A CA and three server pairs it issued, the pairs written to `pairsFile` for `runWriter`. */
export async function writePairsFile(pairsFile: string): Promise<{authority: PemPair; pairs: PemPair[]}> {
  const authority = await createAuthority('test', homeConstraints([]))
  const pairs = await Promise.all(
    ['a.home.arpa', 'b.home.arpa', 'c.home.arpa'].map((host) => issueServerCertificate(authority, [host])),
  )
  writeFileSync(pairsFile, JSON.stringify(pairs))
  return {authority, pairs}
}
