import {spawn} from 'node:child_process'

import {cleanEnv, runJs} from './cli.js'

export interface TerminalSession {
  code: number | null
  output: string
}

/**
 * The command line that runs `homeauth ARGS` in a pseudo terminal (util-linux `script`). `script`
 * runs it with `$SHELL -c`, so the shell is pinned to /bin/sh, and `exec` replaces it: dash would
 * otherwise stay in the terminal's process group, and a Ctrl+C typed there would kill it (exit 130).
 */
export function terminalCommand(args: string[]): string[] {
  const command = [process.execPath, runJs, ...args]
    .map((word) => `'${word.replaceAll("'", `'\\''`)}'`)
    .join(' ')
  return ['env', 'SHELL=/bin/sh', 'script', '-qfec', `exec ${command}`, '/dev/null']
}

/**
 * Runs `homeauth ARGS` in a pseudo terminal (util-linux `script`), typing each answer once its
 * prompt has appeared in the output since the previous answer. Resolves when the command exits.
 */
export function runInTerminal(
  args: string[],
  answers: [RegExp, string][],
  timeoutMs = 20_000,
): Promise<TerminalSession> {
  const [env, ...envArgs] = terminalCommand(args)
  const child = spawn(env!, envArgs, {
    env: cleanEnv({TERM: 'dumb'}),
    stdio: 'pipe',
  })
  let output = ''
  let seen = 0
  const pending = [...answers]
  const answerWhenAsked = () => {
    const next = pending[0]
    if (!next) return
    const match = next[0].exec(output.slice(seen))
    if (!match) return
    seen += match.index + match[0].length
    pending.shift()
    child.stdin.write(next[1])
    answerWhenAsked()
  }
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
    answerWhenAsked()
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, output})
    })
  })
}
