import path from 'node:path'

/** The name package.json's "bin" installs the command under. */
const binName = 'homeauth'

/** Carries the parent's command name to a background `serve`, whose hints must name what the user typed. */
export const invokedAsVariable = 'HOMEAUTH_INVOKED_AS'

/** What a process was started with: `process.argv[1]` (absolute, links not resolved), its environment and directory. */
export interface ProcessStart {
  script: string | undefined
  env: NodeJS.ProcessEnv
  cwd: string
}

/**
 * The command a user types to run homeauth again the way this process was started:
 * - `npx homeauth` for a bin link in a `node_modules/.bin`: where npx and `npm exec` run it from
 *   (the project's, or npx's cache for a package not installed) and where npm scripts find it; a
 *   shell does not look there. The link's path decides, not npm's `npm_command=exec`, which every
 *   process under an npx inherits (a global homeauth run from `npx vitest` is not run by npx);
 * - `homeauth` for the bin link in a PATH directory (a global install);
 * - else the script's path: `./bin/run.js` below the working directory (when shorter), else absolute.
 */
export function commandNameOf({script, env, cwd}: ProcessStart): string {
  const inherited = env[invokedAsVariable]
  if (inherited) return inherited
  if (!script) return binName
  const dir = path.dirname(script)
  if (path.basename(script) === binName) {
    const inNodeModulesBin =
      path.basename(dir) === '.bin' && path.basename(path.dirname(dir)) === 'node_modules'
    if (inNodeModulesBin) return `npx ${binName}`
    const pathDirs = (env.PATH ?? '').split(path.delimiter).filter((entry) => entry !== '')
    if (pathDirs.some((entry) => path.resolve(cwd, entry) === dir)) return binName
  }
  const relative = `./${path.relative(cwd, script)}`
  const below = !relative.startsWith(`./..${path.sep}`) && relative.length < script.length
  return shellQuoted(below ? relative : script)
}

/**
 * A word (a path, a user name, a URL) as a POSIX shell reads it back, for the commands homeauth
 * prints to be run: as it is when it holds plain characters only, else single-quoted, each `'` as `'\\''`.
 */
export function shellQuoted(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

let commandName: string | undefined
/** The --config-dir this process was given where the shell would use another (see `keepConfigDirInHints`). */
let hintConfigDir: string | undefined

/** This process's command name, decided once (see `commandNameOf`). */
export function invokedAs(): string {
  return (commandName ??= commandNameOf({script: process.argv[1], env: process.env, cwd: process.cwd()}))
}

/**
 * Makes every later `homeauthCommand` carry `--config-dir DIR` when this process was given a config
 * directory (`given`) other than the one the same command typed without the flag would use
 * (`withoutFlag`: oclif's, which reads HOMEAUTH_CONFIG_DIR too): a hint without it would act on that one.
 */
export function keepConfigDirInHints(given: string | undefined, withoutFlag: string): void {
  if (given !== undefined && path.resolve(given) !== path.resolve(withoutFlag)) hintConfigDir = given
}

/**
 * `args` as a command line to type: `homeauthCommand('passwd')` is `npx homeauth passwd` under npx,
 * followed by `--config-dir DIR` when this process was given one (see `keepConfigDirInHints`);
 * `configDir` names another directory, or none with false. Words in `args` come quoted (`shellQuoted`).
 */
export function homeauthCommand(args: string, configDir: string | false | undefined = hintConfigDir): string {
  return `${invokedAs()} ${args}${configDir === false || configDir === undefined ? '' : ` --config-dir ${shellQuoted(configDir)}`}`
}

/**
 * `args` as a command line for a page any client on the network may load. A script's path would
 * tell strangers the server's directories and user name, so the page says `homeauth` instead; being
 * one of two fixed names, it needs no HTML escaping.
 */
export function publicHomeauthCommand(args: string): string {
  const name = invokedAs()
  return `${name === `npx ${binName}` ? name : binName} ${args}`
}
