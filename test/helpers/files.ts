import {readFileSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'

/** Every regular file below `dir` (generation directories included), with its bytes. */
export function readTree(dir: string): Record<string, Buffer> {
  const files: Record<string, Buffer> = {}
  const walk = (current: string) => {
    for (const entry of readdirSync(current, {withFileTypes: true})) {
      const full = path.join(current, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.isFile()) files[path.relative(dir, full)] = readFileSync(full)
    }
  }
  walk(dir)
  return files
}

/** The bytes behind each public name in the config directory (following the generation links). */
export function readPublicFiles(
  dir: string,
  names = ['config.json', 'ca.pem', 'ca-key.pem', 'server.pem', 'server-key.pem'],
) {
  return Object.fromEntries(names.map((name) => [name, readFileSync(path.join(dir, name), 'utf8')]))
}

export function modeOf(file: string): number {
  return statSync(file).mode & 0o777
}
