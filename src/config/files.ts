import {randomBytes} from 'node:crypto'
import {constants, promises as fs, type Stats} from 'node:fs'
import path from 'node:path'

import {errorCode, setupError} from '../errors.js'
import {homeauthCommand, shellQuoted} from '../invocation.js'
import {lockConfigDir, lockLostError, type ConfigLock} from './lock.js'

export const privateFileMode = 0o600
export const publicFileMode = 0o644
const privateDirMode = 0o700

export function notADirectoryError(dir: string) {
  return setupError(`The config directory ${dir} is not a directory.`, [
    'Pass another one with --config-dir.',
  ])
}

/**
 * Refuses a config directory that belongs to another user or that others can write to: they could
 * swap the certificate links, the CA that fetch-secret trusts or the PID that stop signals (as ssh
 * checks ~/.ssh). A missing directory passes: there is nothing in it to trust yet. `anyOwner` lets
 * root read another user's directory (service install --system); others still may not write it.
 */
export async function checkConfigDir(dir: string, options: {anyOwner?: boolean} = {}): Promise<void> {
  let stats
  try {
    stats = await fs.stat(dir)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return
    if (errorCode(error) === 'ENOTDIR') throw notADirectoryError(dir)
    throw error
  }
  if (!stats.isDirectory()) throw notADirectoryError(dir)
  if (!options.anyOwner && process.getuid && stats.uid !== process.getuid()) {
    throw setupError(`The config directory ${dir} belongs to another user (uid ${stats.uid}).`, [
      'Run homeauth as that user, or pass a directory of your own with --config-dir.',
    ])
  }
  if ((stats.mode & 0o022) !== 0) {
    throw setupError(
      `The config directory ${dir} can be written by other users (mode ${octalMode(stats.mode)}).`,
      [`Run: chmod 700 ${shellQuoted(dir)}`],
    )
  }
}

/** Creates the config directory (0700), or checks an existing one with `checkConfigDir`. */
export async function ensureConfigDir(dir: string): Promise<void> {
  await fs.mkdir(dir, {recursive: true, mode: privateDirMode}).catch((error: unknown) => {
    if (['EEXIST', 'ENOTDIR'].includes(errorCode(error) ?? '')) throw notADirectoryError(dir)
    throw error
  })
  await checkConfigDir(dir)
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file, constants.F_OK)
    return true
  } catch (error) {
    if (['ENOENT', 'ENOTDIR'].includes(errorCode(error) ?? '')) return false
    throw error
  }
}

/**
 * `file`'s stats, or undefined when it cannot be stat'ed (most often: it does not exist yet). For
 * files that come and go while they are read, such as the log a server appends to.
 */
export async function statIfPresent(file: string): Promise<Stats | undefined> {
  return fs.stat(file).catch(() => undefined)
}

function octalMode(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0')
}

/**
 * Refuses a file that holds a secret when group or others may read it (as ssh refuses a private
 * key with mode 0644): the fix is the chmod we name. `name` is how the message names the file.
 */
export function checkPrivateMode(file: string, mode: number, name = file): void {
  if ((mode & 0o077) === 0) return
  throw setupError(
    `${name} can be read by other users (mode ${octalMode(mode)}); homeauth refuses to use it.`,
    [`Run: chmod 600 ${shellQuoted(file)}`],
  )
}

/** Reads one of homeauth's own files that holds a secret, refusing it when others may read it. */
export async function readSecretFile(file: string): Promise<string> {
  checkPrivateMode(file, (await fs.stat(file)).mode)
  return fs.readFile(file, 'utf8')
}

async function fsyncPath(target: string): Promise<void> {
  const handle = await fs.open(target, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function writeDurably(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const handle = await fs.open(file, 'wx', mode)
  try {
    await handle.writeFile(data)
    await handle.chmod(mode)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function temporaryName(dir: string, base: string): string {
  return path.join(dir, `.${base}.tmp-${randomBytes(6).toString('hex')}`)
}

/** Replaces one file atomically: write a temporary file, fsync, rename over the old one, fsync the directory. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const dir = path.dirname(file)
  const temporary = temporaryName(dir, path.basename(file))
  try {
    await writeDurably(temporary, data, mode)
    await fs.rename(temporary, file)
  } catch (error) {
    await fs.rm(temporary, {force: true})
    throw error
  }
  await fsyncPath(dir)
}

export interface SetFile {
  name: string
  data: string
  mode: number
}

async function replaceSymlink(link: string, target: string): Promise<void> {
  const temporary = temporaryName(path.dirname(link), path.basename(link))
  await fs.symlink(target, temporary)
  try {
    await fs.rename(temporary, link)
  } catch (error) {
    await fs.rm(temporary, {force: true})
    throw error
  }
}

/** Name of the set that holds config.json and the certificate files in the config directory. */
const dataSet = 'data'

/** What the public name of a file in `set` links to: the file in whichever generation `.<set>` points to. */
function linkTarget(set: string, name: string): string {
  return path.join(`.${set}`, name)
}

/** The generation directory `.<set>` points to, relative to `dir`; undefined without the link (an old layout). */
async function currentGeneration(dir: string, set: string): Promise<string | undefined> {
  try {
    return await fs.readlink(path.join(dir, `.${set}`))
  } catch (error) {
    if (['ENOENT', 'EINVAL', 'ENOTDIR'].includes(errorCode(error) ?? '')) return undefined
    throw error
  }
}

async function readGeneration(dir: string, set: string): Promise<SetFile[]> {
  const generationDir = path.join(dir, `.${set}`)
  let names: string[]
  try {
    names = await fs.readdir(generationDir)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return []
    throw error
  }
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(generationDir, name)
      const [data, stats] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)])
      return {name, data, mode: stats.mode & 0o777}
    }),
  )
}

/** What a writer may do while it holds the config directory's lock (see `withConfigLock`). */
export interface LockedConfigDir {
  /**
   * Replaces files that must match (a key and its certificate, the config that names them) as a unit.
   * The files live in a generation directory `.data-<id>`; `.data` is a symlink to the current
   * generation and each public name (`server.pem`) links through it. A new generation holds the
   * changed files plus copies of the unchanged ones, and switching to it is one rename of the
   * `.data` link: a crash or power cut leaves either the whole old set or the whole new one.
   */
  updateFileSet(changes: SetFile[]): Promise<void>
}

function missingConfigDirError(dir: string) {
  return setupError(`The config directory ${dir} does not exist.`, [
    `Run: ${homeauthCommand('init')}, or pass another --config-dir.`,
  ])
}

/**
 * Runs `change` while holding the config directory's lock, so no other homeauth process (a serving
 * one renewing its certificate included) writes in between. Read what you change inside `change`:
 * the public names cannot move while the lock is held. Waits for another writer to finish.
 */
export async function withConfigLock<T>(
  dir: string,
  change: (locked: LockedConfigDir) => Promise<T>,
): Promise<T> {
  const lock = await lockConfigDir(dir).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') throw missingConfigDirError(dir)
    if (errorCode(error) === 'ENOTDIR') throw notADirectoryError(dir)
    throw error
  })
  try {
    return await change({updateFileSet: (changes) => writeFileSet(dir, dataSet, changes, lock)})
  } finally {
    await lock.release()
  }
}

async function writeFileSet(dir: string, set: string, changes: SetFile[], lock: ConfigLock): Promise<void> {
  const merged = new Map((await readGeneration(dir, set)).map((file) => [file.name, file]))
  for (const file of changes) merged.set(file.name, file)
  const files = [...merged.values()]
  const currentLink = path.join(dir, `.${set}`)
  const generation = `.${set}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  const generationDir = path.join(dir, generation)
  await fs.mkdir(generationDir, {mode: privateDirMode})
  try {
    for (const file of files) await writeDurably(path.join(generationDir, file.name), file.data, file.mode)
    await fsyncPath(generationDir)
    await fsyncPath(dir)
    if (!lock.held()) throw lockLostError(dir)
    await replaceSymlink(currentLink, generation)
  } catch (error) {
    await fs.rm(generationDir, {recursive: true, force: true})
    throw error
  }
  for (const file of files) {
    const link = path.join(dir, file.name)
    const target = linkTarget(set, file.name)
    const existing = await fs.readlink(link).catch(() => undefined)
    if (existing !== target) await replaceSymlink(link, target)
  }
  await fsyncPath(dir)
  if (lock.held()) await removeUnusedGenerations(dir, set)
}

/** Deletes the generations `.<set>` does not point to: read again here, never assumed to be the one just written. */
async function removeUnusedGenerations(dir: string, set: string): Promise<void> {
  const current = await fs.readlink(path.join(dir, `.${set}`))
  const prefix = `.${set}-`
  for (const entry of await fs.readdir(dir)) {
    if (entry.startsWith(prefix) && entry !== current) {
      await fs.rm(path.join(dir, entry), {recursive: true, force: true})
    }
  }
}

/** A file of the config directory as read: its text and its permission bits. */
export interface StoredFile {
  text: string
  mode: number
}

/** Reads `name` from `generation` when its public name links into the set, else the public name itself; undefined when missing. */
async function readStoredFile(
  dir: string,
  name: string,
  generation: string | undefined,
): Promise<StoredFile | undefined> {
  const publicFile = path.join(dir, name)
  const linksIntoSet =
    generation !== undefined &&
    (await fs.readlink(publicFile).catch(() => undefined)) === linkTarget(dataSet, name)
  const file = linksIntoSet ? path.join(path.resolve(dir, generation), name) : publicFile
  let handle: fs.FileHandle
  try {
    handle = await fs.open(file, 'r')
  } catch (error) {
    if (['ENOENT', 'ENOTDIR'].includes(errorCode(error) ?? '')) return undefined
    throw error
  }
  try {
    const stats = await handle.stat()
    return {text: await handle.readFile('utf8'), mode: stats.mode & 0o777}
  } finally {
    await handle.close()
  }
}

/** How often a snapshot is read again when its generation was deleted under it. */
const snapshotAttempts = 3

/**
 * Reads files that must match (a certificate and its key) as one generation wrote them, without
 * the lock. Through the public names, a writer switching `.data` between two reads would pair one
 * generation's certificate with the next one's key; so `.data` is resolved once and every file is
 * read from that generation. A file missing there while `.data` has moved on was in a generation
 * deleted after a switch: all are read again from the new one. A public name that is not a link
 * into the set (an older layout, or a file put in its place) is read as it is; a file that does not
 * exist is undefined.
 */
export async function readFileSetSnapshot(dir: string, names: string[]): Promise<(StoredFile | undefined)[]> {
  for (let attempt = 1; ; attempt++) {
    const generation = await currentGeneration(dir, dataSet)
    const files = await Promise.all(names.map((name) => readStoredFile(dir, name, generation)))
    if (generation === undefined || !files.includes(undefined) || attempt === snapshotAttempts) return files
    if ((await currentGeneration(dir, dataSet)) === generation) return files
  }
}
